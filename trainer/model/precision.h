// Mixed precision: bf16 autocast on CUDA with fp32 master weights (the optimizer, the residual
// stream, RMSNorm, softmax and the loss stay fp32); CPU runs fp32. The autocast switch changed
// between LibTorch releases (1.13: at::autocast::set_enabled; >= 2.4: per-device
// set_autocast_enabled), so everything goes through this one guard.
#pragma once

#include <torch/types.h>

#include "trainer/model/model_config.h"

namespace ankh::model {

struct AutocastState {
  bool enabled = false;                        // CUDA autocast on this thread
  torch::ScalarType dtype = torch::kBFloat16;  // its lower-precision dtype

  // This thread's current CUDA autocast state.
  static AutocastState current();
};

// What model.precision means on `device`: bf16 autocast on CUDA, nothing elsewhere.
AutocastState autocast_for(const ModelConfig& config, const torch::Device& device);

// Sets this thread's CUDA autocast state for the guard's lifetime, then restores the previous one
// (and clears the cast cache when the outermost autocast region ends). Wrap the forward pass
// only; backward runs the recorded casts by itself.
class AutocastGuard {
 public:
  explicit AutocastGuard(AutocastState state);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  AutocastState previous_;
  bool nested_ = false;
};

}  // namespace ankh::model
