#include "trainer/app/cli/model_run_args.h"

#include <torch/torch.h>

#include "trainer/app/cli/choice_option.h"

namespace ankh::cli {

torch::ScalarType ModelRunArgs::scalar_type() const {
  return dtype == model::Precision::Bf16 ? torch::kBFloat16 : torch::kFloat32;
}

torch::Device ModelRunArgs::apply() const {
  if (threads > 0) torch::set_num_threads(threads);
  return parallel::choose_device(device, 0, "--device");
}

void add_model_run_args(CLI::App& sub, ModelRunArgs& args, const ModelRunHelp& help) {
  add_choice(sub, "--dtype", args.dtype, model::precisions(), "compute dtype (" + help.dtype + ")");
  add_choice(sub, "--device", args.device, parallel::device_kinds(), "auto: cuda when available");
  sub.add_option("--threads", args.threads, help.threads)->capture_default_str()->check(CLI::NonNegativeNumber);
  if (help.overwrite)
    sub.add_flag("--overwrite", args.overwrite, "replace an existing output file (only once the new one is complete)");
}

}  // namespace ankh::cli
