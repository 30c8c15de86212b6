// Tensors by name, in name order: a model's parameters under their Hugging Face names, an
// optimizer's state, the contents of a safetensors file. One type for all of them, so that what
// the optimizer hands over is what a checkpoint writes and reads back.
#pragma once

#include <map>
#include <string>

#include <torch/types.h>

namespace ankh::core {

using NamedTensors = std::map<std::string, torch::Tensor>;

}  // namespace ankh::core
