// `ankh probe SOURCE TASK.yaml [--output DIR] [key=value ...]`: how good a model's embeddings are
// for proteins, next to the baselines a model must beat (docs/probes.md): GO annotation transfer
// scored by CAFA's Fmax (with the naive and BLAST baselines) or a linear classification probe
// (with the majority class), written to DIR/results.json and DIR/results.md.
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/strings.h"
#include "trainer/app/cli/command.h"
#include "trainer/app/cli/model_run_args.h"
#include "trainer/model/inference_memory.h"
#include "trainer/probe/probe_run.h"

namespace ankh::cli {

namespace fs = std::filesystem;

namespace {

// probes/<task>/<name>: the run's name (and step-N for a checkpoint), or the baseline's.
fs::path default_output(const probe::ProbeSource& source, const std::string& task) {
  std::string name;
  // The directory without a trailing '/' (runs/demo/ is runs/demo); baselines have no path.
  const fs::path p =
      source.path.empty() ? fs::path() : (fs::absolute(source.path) / "").lexically_normal().parent_path();
  switch (source.kind) {
    case probe::SourceKind::Model:
      name = p.parent_path().filename() == "checkpoints" ? p.parent_path().parent_path().filename().string() + "-" +
                                                               p.filename().string()
                                                         : p.filename().string();
      break;
    case probe::SourceKind::Composition: name = "composition"; break;
    case probe::SourceKind::Dipeptide: name = "dipeptide"; break;
    case probe::SourceKind::RandomInit: name = "random-init-" + source.path.stem().string(); break;
  }
  return fs::path("probes") / task / name;
}

}  // namespace

Action setup_probe(CLI::App& sub) {
  struct Options {
    std::string source, task, output, memory_limit;
    std::vector<std::string> overrides;
    ModelRunArgs run;
    int64_t batch_tokens = 16384;
    bool no_blast = false, no_progress = false;
  };
  auto o = std::make_shared<Options>();
  sub.add_option("source", o->source,
                 "a checkpoint, run or Hugging Face directory (as for ankh embed), or baseline:composition, "
                 "baseline:dipeptide, baseline:random-init:CONFIG")
      ->required();
  sub.add_option("task", o->task, "probe task file (configs/probes/*.yaml)")->required();
  sub.add_option("overrides", o->overrides, "task settings key=value, e.g. max_query=100");
  sub.add_option("--output,-o", o->output, "results directory (default: probes/TASK/SOURCE-NAME)");
  add_model_run_args(sub, o->run,
                     {"of the model; features stay float32", "CPU threads for the model and BLAST (0: LibTorch's default)",
                      /*overwrite=*/false});
  sub.add_option("--batch-tokens", o->batch_tokens, "padded tokens per embedding batch")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--memory-limit", o->memory_limit,
                 "memory for the weights and one embedding batch, e.g. 8G (default: what the machine can still give; "
                 "as for ankh embed)");
  sub.add_flag("--no-blast", o->no_blast, "go_transfer: skip the BLAST baseline");
  sub.add_flag("--no-progress", o->no_progress, "no progress bar or periodic progress lines");
  return [o]() {
    probe::ProbeRunOptions options;
    options.task = probe::load_probe_task(o->task, o->overrides);
    options.source = probe::parse_probe_source(o->source);
    options.output = o->output.empty() ? default_output(options.source, options.task.name) : fs::path(o->output);
    options.features.device = o->run.apply();
    options.features.dtype = o->run.scalar_type();
    options.features.batch_tokens = o->batch_tokens;
    if (!o->memory_limit.empty())
      options.features.memory_limit = model::parse_memory_size(o->memory_limit, "--memory-limit");
    options.features.progress = !o->no_progress;
    options.threads = torch::get_num_threads();
    options.blast = !o->no_blast;
    const auto r = probe::run_probe(options);
    for (const auto& [method, m] : r.results.items()) {
      if (method == "probe") continue;
      spdlog::info("{} {}: {}", options.task.name, method, m.dump());
    }
    spdlog::info("probe: features {}, probe {}, baselines {} -> {}", core::format_duration(r.feature_seconds),
                 core::format_duration(r.fit_seconds), core::format_duration(r.baseline_seconds),
                 (options.output / "results.md").string());
    return 0;
  };
}

}  // namespace ankh::cli
