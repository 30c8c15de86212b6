// A run config: every section, composed. `ankh train`, `ankh config`, `ankh batches`,
// checkpoints and sweeps all read and print this one struct.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "checkpoints/checkpoint_config.h"
#include "core/config.h"
#include "data/data_config.h"
#include "data/loader_options.h"
#include "trainer/parallel/dist_config.h"
#include "trainer/model/model_config.h"
#include "trainer/optim/optim_config.h"
#include "trainer/train_config.h"

namespace ankh::trainer {

struct RunConfig {
  RunSettings run;
  data::DataConfig data;
  data::ObjectiveConfig objective;
  model::ModelConfig model;
  optim::OptimConfig optim;
  TrainConfig train;
  parallel::DistConfig dist;
  checkpoints::CheckpointConfig checkpoint;

  void visit(core::FieldVisitor& v);
  // Section checks plus the ones that span sections.
  void validate(core::IssueList& issues) const;
};

// Every section of `source` read and validated (all problems at once, as a ConfigError), the
// single-objective keys checked against objective.mixture, and model.vocab_size grown to fit the
// objective's task tokens (data::vocab_size_for). What `ankh train`, `ankh config` and sweeps use.
RunConfig resolve_run_config(const core::ConfigSource& source);

// defaults < `file` (after its base chain) < `overrides` ("section.key=value"), validated.
RunConfig load_run_config(const std::filesystem::path& file, const std::vector<std::string>& overrides);

// What the loader needs from a run config, for `split` as rank `rank` of `world_size`: the train
// split streams on a background thread; the valid split is the first train.eval_batches global
// batches, built on the calling thread (the trainer's validation and `ankh batches` read it).
data::LoaderOptions loader_options(const RunConfig& config, data::Split split, int rank, int world_size);

// Resolved config as YAML (what `ankh config` prints and checkpoints store).
std::string to_yaml(const RunConfig& config);

}  // namespace ankh::trainer
