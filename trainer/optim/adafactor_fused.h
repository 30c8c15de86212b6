// Adafactor's factored step for one group of same-shaped fp32 CUDA matrices by ankh's kernels
// (trainer/kernels/adafactor.h): three passes over the gradients where the stacked LibTorch step
// (Adafactor::step_group) makes ~17 and copies every gradient into a stacked temporary. The same
// arithmetic as that step, with the sums reduced in another (fixed) order.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace ankh::optim {

struct FactoredStepArgs {
  double beta2t = 0, eps1 = 0, clip_threshold = 1, rho = 0, eps2 = 0;
  bool scale_parameter = false;
};

// The device arrays of gradient and parameter pointers a group's kernels read, kept between
// steps and copied again only when a gradient or parameter has moved.
struct DevicePointers {
  std::vector<int64_t> host;
  torch::Tensor device;
};

// Whether this build has the kernels and a CUDA LibTorch to call them from.
bool fused_adafactor_built();

// Whether the fused step can take these parameters and their gradients: built; CUDA, fp32,
// 2-D, contiguous, one shape and device, every gradient defined and likewise, at most 65535.
bool fused_adafactor_applies(const std::vector<torch::Tensor>& params);

// One step of the group: row [k, rows] and col [k, cols] are its factored second moment, updated
// in place; the parameters are updated in place.
void fused_factored_step(const std::vector<torch::Tensor>& params, torch::Tensor& row, torch::Tensor& col,
                         DevicePointers& pointers, const FactoredStepArgs& args);

}  // namespace ankh::optim
