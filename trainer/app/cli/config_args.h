// The `CONFIG [section.key=value ...]` arguments shared by train, eval, config, batches, info.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "trainer/run_config.h"

namespace ankh::cli {

struct ConfigArgs {
  std::string file;
  std::vector<std::string> overrides;

  trainer::RunConfig load() const { return trainer::load_run_config(file, overrides); }
};

// Adds the positional CONFIG file and the trailing overrides to `sub`.
void add_config_args(CLI::App& sub, ConfigArgs& args, bool required = true);

}  // namespace ankh::cli
