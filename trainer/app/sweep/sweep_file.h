// A sweep file: a base run config, overrides for every run, and the axes that vary.
//
//   base: ../demo.yaml                 # a run config (path relative to this file)
//   overrides: {train.max_steps: 40}   # applied to every run
//   grid:                              # crossed: one run per combination
//     objective.mask_prob: [0.1, 0.2, 0.3]
//   variants:                          # one run per entry (crossed with the grid when both)
//     - {model.activation: relu}
//   probes: [../probes/go-mfo.yaml]    # downstream probes of each run's final checkpoint
//
// Keys are the dotted keys of the command line; nested maps are accepted and flattened. In
// overrides: and variants: a list is one value, for a list-valued key (`- {objective.mixture:
// [...]}`); a grid axis's list holds its values, and each may itself be a list
// (`objective.mask_prob: [0.2, [0.15, 0.3]]`). Only the structure is checked here; whether the
// keys and values make valid run configs is the planner's job (sweep_plan.h), which resolves
// every run before anything starts.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/config_source.h"

namespace ankh::sweep {

// One `key: value` of the sweep file; the value keeps its file:line for error messages.
struct Assignment {
  std::string key;
  core::Setting value;
};

struct GridAxis {
  std::string key;
  std::vector<core::Setting> values;
};

struct SweepFile {
  std::filesystem::path path;
  std::filesystem::path base;              // resolved against the sweep file's directory
  std::string base_origin;                 // "sweep.yaml:1"
  std::vector<Assignment> overrides;       // every run
  std::vector<GridAxis> grid;              // in file order; the last axis varies fastest
  std::vector<std::vector<Assignment>> variants;
  std::vector<std::string> variant_origins;  // file:line of each variant
  std::vector<std::filesystem::path> probes;  // probe task files, resolved against the sweep file
};

// Reads and structurally checks a sweep file. Every problem found (unknown top-level keys with the
// nearest valid one suggested, a missing base, a grid axis that is not a non-empty list of
// distinct values, a variant that is not a map, a key given twice) is reported at once as a
// ConfigError.
SweepFile read_sweep_file(const std::filesystem::path& path);

}  // namespace ankh::sweep
