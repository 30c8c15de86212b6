// Argument checks shared by the communicators: a collective on a tensor of the wrong device,
// layout or shape would corrupt memory or deadlock, so it is refused before anything is issued.
#pragma once

#include <string>

#include <torch/types.h>

namespace ankh::parallel {

// "float32[1000] on cpu".
std::string describe_tensor(const torch::Tensor& t);

// Throws DistError naming `op` unless `t` is defined, contiguous and on `device`.
void check_collective_tensor(const torch::Tensor& t, const torch::Device& device, const std::string& op);

// Throws DistError unless `output` can hold `world` copies of `input` (same dtype, device).
void check_all_gather_tensors(const torch::Tensor& input, const torch::Tensor& output, const torch::Device& device,
                              int world);

}  // namespace ankh::parallel
