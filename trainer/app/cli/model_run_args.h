// The options of the commands that run a trained model on proteins (embed, score, generate):
// where the compute happens (--dtype, --device, --threads) and what happens to an existing output
// (--overwrite). One declaration, so the three commands spell and explain them alike.
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

// Adds --dtype (explained by `dtype_help`), --device, --threads and --overwrite to `sub`.
void add_model_run_args(CLI::App& sub, ModelRunArgs& args, const std::string& dtype_help);

}  // namespace ankh::cli
