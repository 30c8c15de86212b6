// The options of the commands that run a trained model on proteins (embed, score, generate,
// probe): where the compute happens (--dtype, --device, --threads) and what happens to an existing
// output (--overwrite; probe writes a results directory of its own and has none). One declaration,
// so the commands spell and explain them alike.
#pragma once

#include <string>

#include <CLI/CLI.hpp>
#include <torch/types.h>

#include "trainer/model/model.h"
#include "trainer/parallel/device.h"

namespace ankh::cli {

struct ModelRunArgs {
  model::Precision dtype = model::Precision::Fp32;
  parallel::DeviceKind device = parallel::DeviceKind::Auto;
  int threads = 0;
  bool overwrite = false;

  torch::ScalarType scalar_type() const;
  // The device to run on (UsageError for --device cuda without one); sets the CPU threads.
  torch::Device apply() const;
};

// What the commands' options explain differently.
struct ModelRunHelp {
  std::string dtype;                                                       // after "compute dtype"
  std::string threads = "CPU threads for the model (0: LibTorch's default)";
  bool overwrite = true;                                                   // offer --overwrite
};

// Adds --dtype, --device, --threads and (help.overwrite) --overwrite to `sub`.
void add_model_run_args(CLI::App& sub, ModelRunArgs& args, const ModelRunHelp& help);

}  // namespace ankh::cli
