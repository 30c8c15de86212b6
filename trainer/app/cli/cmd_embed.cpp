// `ankh embed SOURCE --fasta FILE --output FILE.h5 [--per-residue] ...`: encoder embeddings per
// protein (mean over residues, </s> excluded) and optionally per residue, in an HDF5 file that
// keeps the FASTA ids and order (docs/cli.md, docs/formats.md "Embeddings file").
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/strings.h"
#include "trainer/app/cli/choice_option.h"
#include "trainer/app/cli/command.h"
#include "trainer/app/cli/model_run_args.h"
#include "trainer/model/inference_memory.h"
#include "trainer/weights/embedder.h"

namespace ankh::cli {

Action setup_embed(CLI::App& sub) {
  struct Options {
    std::string source, fasta, output, memory_limit;
    ModelRunArgs run;
    data::InvalidPolicy on_invalid = data::InvalidPolicy::Error;
    bool per_residue = false, no_progress = false;
    int64_t batch_tokens = 16384, max_length = 0;
  };
  auto o = std::make_shared<Options>();
  sub.add_option("source", o->source,
                 "model: a checkpoint directory, a run directory (its newest committed checkpoint) or a Hugging Face "
                 "directory (ankh export output, or an Ankh download with model.safetensors)")
      ->required();
  sub.add_option("--fasta,-f", o->fasta, "proteins to embed (FASTA, plain or gzip)")->required();
  sub.add_option("--output,-o", o->output, "HDF5 file to create (written under a temporary name, then renamed)")->required();
  sub.add_flag("--per-residue", o->per_residue, "also store every residue's encoder state (/residues, /offsets)");
  sub.add_option("--batch-tokens", o->batch_tokens, "padded tokens per batch (proteins x (longest + 1)); a longer protein runs alone")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--max-length", o->max_length,
                 "residues embedded per protein, 0 for all; longer proteins are truncated to their first N residues "
                 "(counted and warned about; /fasta_lengths keeps the full length)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--memory-limit", o->memory_limit,
                 "memory for the weights and one batch, e.g. 8G (default: what the machine can still give: the tightest "
                 "of MemAvailable, the cgroup's limit, ulimit -v; on a GPU its free memory). Larger batches are split; "
                 "a protein that does not fit alone is an error naming it and the --max-length that fits");
  add_model_run_args(sub, o->run, {"bf16: weights cast; the output stays float32"});
  add_choice(sub, "--on-invalid", o->on_invalid, data::invalid_policies(),
             "characters outside the vocabulary: error (stop, naming file and line), unk (embed <unk>), skip (drop the record)");
  sub.add_flag("--no-progress", o->no_progress, "no progress bar or periodic progress lines");
  return [o]() {
    weights::EmbedOptions options;
    options.source = o->source;
    options.fasta = o->fasta;
    options.output = o->output;
    options.batch.per_residue = o->per_residue;
    options.batch.batch_tokens = o->batch_tokens;
    options.batch.progress = !o->no_progress;
    options.max_length = o->max_length;
    if (!o->memory_limit.empty()) options.batch.memory_limit = model::parse_memory_size(o->memory_limit, "--memory-limit");
    options.dtype = o->run.scalar_type();
    options.device = o->run.apply();
    options.on_invalid = o->on_invalid;
    options.overwrite = o->run.overwrite;
    const auto r = weights::embed_fasta(options);
    spdlog::info("embed: {} proteins, {} residues, d_model {} ({}) -> {} in {} ({:.0f} residues/s){}", core::format_count(r.proteins),
                 core::format_count(r.residues), r.d_model, options.device.str(), o->output, core::format_duration(r.seconds),
                 static_cast<double>(r.residues) / std::max(r.seconds, 1e-9),
                 r.truncated > 0 ? ", " + std::to_string(r.truncated) + " truncated" : std::string());
    return 0;
  };
}

}  // namespace ankh::cli
