// A sweep file -> the list of runs it stands for, each resolved and validated as a run config
// before anything starts (a bad key anywhere in the sweep stops the whole sweep with every problem
// listed, file:line and nearest key included, exactly as `ankh config` would).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "trainer/run_config.h"
#include "trainer/app/sweep/sweep_file.h"

namespace ankh::sweep {

struct PlannedRun {
  std::string name;                  // directory name, from the varying overrides
  std::vector<Assignment> varying;   // this run's grid point, then its variant
  std::filesystem::path dir;         // output / name; the run's run.dir
  trainer::RunConfig config;                  // resolved and validated
};

struct PlanOptions {
  std::filesystem::path output;             // the sweep's directory (runs go in subdirectories)
  int world_size = 1;                       // ranks per run: global batch divisibility is checked
  std::vector<std::string> cli_overrides;   // `ankh sweep FILE key=value ...`: every run
};

// Grid points in file order (the last axis varies fastest), each crossed with every variant.
// Throws ConfigError listing every problem of every run; issues shared by all runs appear once.
std::vector<PlannedRun> plan_sweep(const SweepFile& sweep, const PlanOptions& options);

// "objective.mask_prob=0.2, model.encoder_layers=4" -> "mask_prob-0.2__encoder_layers-4".
// Keys are shortened to their last component unless `full_keys` lists it (two keys of the sweep
// share that component); characters outside [A-Za-z0-9._+-] become '_'; longer than `max_length`
// -> cut, with a hash of the full text appended, so names stay unique. No overrides -> "base".
std::string run_name(const std::vector<Assignment>& varying, const std::vector<std::string>& full_keys = {},
                     std::size_t max_length = 96);

// "key=value key=value": how a run's overrides are shown in logs and summaries.
std::string describe_overrides(const std::vector<Assignment>& varying);

// The default sweep directory: runs/sweeps/<sweep file name without .yaml>.
std::filesystem::path default_output(const std::filesystem::path& sweep_file);

}  // namespace ankh::sweep
