#include "trainer/train_config.h"

#include <filesystem>

#include "core/strings.h"
#include "data/loader.h"

namespace ankh::trainer {

using core::Bounds;

void RunSettings::visit(core::FieldVisitor& v) {
  v.section("run", "where the run lives and its seed");
  v.field("dir", dir, "run directory: checkpoints/, logs/, metrics.jsonl, config.yaml");
  v.field("seed", seed, Bounds::closed(0, 9007199254740992.0), "seed of initialisation, sample order, crops and masks");
}

void RunSettings::validate(core::IssueList& issues) const {
  if (dir.empty()) issues.add("run.dir", "", "must not be empty");
}

void TrainConfig::visit(core::FieldVisitor& v) {
  v.section("train", "training loop");
  v.field("global_batch", global_batch, Bounds::at_least(1), "sequences per optimizer step over all ranks");
  v.field("micro_batch", micro_batch, Bounds::at_least(1), "sequences per forward/backward pass on one rank");
  v.field("max_steps", max_steps, Bounds::at_least(1), "optimizer steps to train");
  v.field("eval_every", eval_every, Bounds::at_least(0), "validate every N steps (0: never)");
  v.field("eval_batches", eval_batches, Bounds::at_least(1), "global batches of the valid split per validation");
  v.field("log_every", log_every, Bounds::at_least(1), "write metrics every N steps");
  v.field("max_skipped_steps", max_skipped_steps, Bounds::at_least(1),
          "stop after this many consecutive steps with a non-finite loss or gradient");
  v.field("peak_flops", peak_flops, Bounds::at_least(0),
          "peak FLOP/s of one device for model FLOP utilisation (0: the dense peak of a known GPU, else a matmul measured at start)");
  v.field("exit_at_step", exit_at_step, Bounds::at_least(0),
          "stop after this step with a checkpoint, keeping the schedule of max_steps (0: never); "
          "for fixed-length cluster allocations");
  v.field("probes", probes,
          "downstream probe task files of the live model, comma-separated (configs/probes/*.yaml; docs/probes.md)");
  v.field("probe_every", probe_every, Bounds::at_least(0),
          "run train.probes every N steps (0: only after the last step)");
}

std::vector<std::string> TrainConfig::probe_files() const {
  std::vector<std::string> files;
  for (auto& f : core::split(probes, ','))
    if (!core::trim(f).empty()) files.push_back(core::trim(f));
  return files;
}

void TrainConfig::validate(core::IssueList& issues) const {
  data::check_batch_geometry(global_batch, micro_batch, /*world_size=*/1, issues);
  if (probe_every > 0 && probe_files().empty())
    issues.add("train.probe_every", "", "is set but train.probes names no task file",
               "e.g. train.probes=configs/probes/go-mfo.yaml");
  for (const auto& f : probe_files())
    if (!std::filesystem::is_regular_file(f))
      issues.add("train.probes", "", "no such probe task file: " + f, "paths are relative to the working directory");
}

}  // namespace ankh::trainer
