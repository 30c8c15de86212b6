// `ankh generate SOURCE --fasta SEEDS --output OUT.fasta [...]`: variants of seed proteins from an
// encoder-decoder, by infilling chosen positions (default) or completing a prefix, greedy,
// sampled or by beam search (docs/cli.md, docs/generation.md "Generating proteins").
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/strings.h"
#include "trainer/app/cli/choice_option.h"
#include "trainer/app/cli/command.h"
#include "trainer/app/cli/model_run_args.h"
#include "trainer/generation/generate_fasta.h"

namespace ankh::cli {

Action setup_generate(CLI::App& sub) {
  struct Options {
    generation::GenerateOptions g;
    std::string mode = "infill";
    ModelRunArgs run;
  };
  auto o = std::make_shared<Options>();
  auto& g = o->g;
  sub.add_option("source", g.source,
                 "model: a checkpoint directory, a run directory (its newest committed checkpoint) or a Hugging Face "
                 "directory with a decoder (not an --encoder-only export)")
      ->required();
  sub.add_option("--fasta,-f", g.fasta, "seed proteins (FASTA, plain or gzip)")->required();
  sub.add_option("--output,-o", g.output, "FASTA file to create: exactly --num variants per seed, in the seeds' order")->required();
  sub.add_option("--mode", o->mode, "infill: redesign chosen positions; complete: continue a prefix (models trained with completion)")
      ->check(CLI::IsMember({"infill", "complete"}))
      ->capture_default_str();
  sub.add_option("--num,-n", g.num, "variants per seed")->capture_default_str();
  sub.add_option("--mask-prob", g.mask_prob,
                 "infill: share of positions redesigned, drawn at random per variant (round(p*L) in [1, L-1], at most 116)")
      ->capture_default_str();
  sub.add_option("--positions", g.positions, "infill: the positions to redesign instead, 1-based, e.g. 12,40-45");
  sub.add_option("--prefix-fraction", g.prefix_fraction, "complete: the seed's share kept as the prefix")->capture_default_str();
  sub.add_option("--prefix-length", g.prefix_length, "complete: keep this many residues instead (0: --prefix-fraction)")
      ->capture_default_str();
  sub.add_option("--max-new", g.max_new, "complete: most residues generated (0: 1.5 x the seed's remaining length)")
      ->capture_default_str();
  sub.add_option("--temperature", g.decoding.temperature, "0: greedy; above 0: sample at this temperature")->capture_default_str();
  sub.add_option("--top-k", g.decoding.top_k, "sample among the k most probable residues only (0: all)")->capture_default_str();
  sub.add_option("--top-p", g.decoding.top_p, "sample among the most probable residues up to this total probability")
      ->capture_default_str();
  sub.add_option("--beam", g.decoding.beam, "beam search of this width (0: off); not with sampling options")->capture_default_str();
  sub.add_flag("--allow-nonstandard", g.decoding.allow_nonstandard, "also generate X B O U Z (default: the 20 standard amino acids)");
  sub.add_option("--seed", g.seed, "random seed: the same seed gives the same output whatever --batch-size")->capture_default_str();
  sub.add_option("--batch-size", g.batch_size, "(seed, attempt) jobs decoded together")->capture_default_str();
  sub.add_option("--task-token", g.task_token,
                 "task token to prepend to the encoder input (default: the one the checkpoint's objective used for this mode; "
                 "none for a Hugging Face export); 'none' for none");
  add_model_run_args(sub, o->run, {"bf16: weights cast"});
  add_choice(sub, "--on-invalid", g.on_invalid, data::invalid_policies(),
             "characters outside the vocabulary in the seeds: error, unk (as <unk>), skip (drop the record)");
  return [o]() {
    auto& options = o->g;
    options.mode = o->mode == "complete" ? generation::GenerateMode::kComplete : generation::GenerateMode::kInfill;
    if (options.mode == generation::GenerateMode::kComplete && !options.positions.empty())
      throw core::UsageError("--positions is for --mode infill", "--positions");
    options.dtype = o->run.scalar_type();
    options.device = o->run.apply();
    options.overwrite = o->run.overwrite;
    const auto r = generation::generate_fasta(options);
    spdlog::info("generate: {} variants of {} seed(s) in {} attempts -> {} in {}", core::format_count(r.variants),
                 core::format_count(r.seeds), core::format_count(r.attempts), options.output.string(), core::format_duration(r.seconds));
    return 0;
  };
}

}  // namespace ankh::cli
