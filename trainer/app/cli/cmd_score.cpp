// `ankh score SOURCE --fasta WILDTYPES --mutations MUTS.csv --output SCORES.csv`: zero-shot
// variant effects (masked marginals in the sentinel format) of every row of a ProteinGym-style
// CSV, written back with a `score` column; Spearman against DMS_score when the CSV has one
// (docs/generation.md "Scoring variants", docs/cli.md).
#include <cmath>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/strings.h"
#include "trainer/app/cli/command.h"
#include "trainer/app/cli/model_run_args.h"
#include "trainer/generation/variant_scoring.h"

namespace ankh::cli {

namespace {

std::string rho_text(const generation::Correlation& c) {
  return std::isnan(c.spearman) ? std::string("undefined") : fmt::format("{:.4f}", c.spearman);
}

}  // namespace

Action setup_score(CLI::App& sub) {
  struct Options {
    std::string source, fasta, mutations, output;
    ModelRunArgs run;
    bool no_progress = false;
    int64_t batch_size = 32;
  };
  auto o = std::make_shared<Options>();
  sub.add_option("source", o->source,
                 "model: a checkpoint directory, a run directory (its newest committed checkpoint) or a full Hugging Face "
                 "export (an encoder-only one is refused: it has no decoder)")
      ->required();
  sub.add_option("--fasta,-f", o->fasta, "wild-type proteins (FASTA, plain or gzip)")->required();
  sub.add_option("--mutations,-m", o->mutations,
                 "CSV with a 'mutant' column (A23G:K40R, 1-based), optional 'DMS_score' and 'protein' (the FASTA id; "
                 "required when the FASTA holds more than one record)")
      ->required();
  sub.add_option("--output,-o", o->output, "CSV to create: every input column and row in order, then 'score'")->required();
  sub.add_option("--batch-size", o->batch_size, "passes (distinct protein and position set) per forward")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  add_model_run_args(sub, o->run, {"bf16: weights cast; log-softmax in float32"});
  sub.add_flag("--no-progress", o->no_progress, "no progress bar or periodic progress lines");
  return [o]() {
    generation::ScoreOptions options;
    options.source = o->source;
    options.fasta = o->fasta;
    options.mutations = o->mutations;
    options.output = o->output;
    options.batch.batch_size = o->batch_size;
    options.batch.progress = !o->no_progress;
    options.dtype = o->run.scalar_type();
    options.device = o->run.apply();
    options.overwrite = o->run.overwrite;
    const auto r = generation::score_file(options);
    spdlog::info("score: {} rows ({} mutated positions, {} protein(s)) in {} passes, {} batches on {}: model loaded in {}, "
                 "scored in {} ({:.1f} rows/s), {} in all -> {}",
                 core::format_count(r.rows), core::format_count(r.positions), r.proteins, core::format_count(r.stats.passes),
                 core::format_count(r.stats.batches), options.device.str(), core::format_duration(r.load_seconds),
                 core::format_duration(r.score_seconds), static_cast<double>(r.rows) / std::max(r.score_seconds, 1e-9),
                 core::format_duration(r.seconds), o->output);
    if (r.has_dms) {
      spdlog::info("score: Spearman(score, DMS_score) = {} over {} rows{}", rho_text(r.overall), core::format_count(r.overall.pairs),
                   r.dms_skipped > 0 ? " (" + core::format_count(r.dms_skipped) + " without a DMS_score skipped)" : std::string());
      for (const auto& c : r.per_protein)
        spdlog::info("score:   {}: Spearman {} over {} rows", c.protein, rho_text(c), core::format_count(c.pairs));
    }
    return 0;
  };
}

}  // namespace ankh::cli
