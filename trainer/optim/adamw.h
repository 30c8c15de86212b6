// AdamW (Loshchilov & Hutter 2019) with the update of torch.optim.AdamW: decoupled weight decay
// p *= 1 - lr*wd (skipped for exempt_from_weight_decay parameters), bias-corrected moments,
// p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps). State in fp32 (fp64 for fp64 parameters),
// updated with LibTorch's multi-tensor _foreach kernels (one launch per op for all parameters
// on CUDA; present in LibTorch 1.13 and 2.x; _foreach_lerp_ only from 2.0).
#pragma once

#include "trainer/optim/optimizer.h"

namespace ankh::optim {

class AdamW final : public Optimizer {
 public:
  AdamW(const OptimConfig& config, NamedParams params);

  void step(double lr) override;
  NamedTensors state_tensors() const override;
  void load_state_tensors(const NamedTensors& state) override;
  int64_t step_count() const override { return step_; }
  const char* kind() const override { return "adamw"; }

 private:
  struct Slot {
    std::string name;
    torch::Tensor param, exp_avg, exp_avg_sq;
    bool decay = true;
  };
  std::vector<Slot> slots_;
  double beta1_, beta2_, eps_, weight_decay_;
  int64_t step_ = 0;
};

}  // namespace ankh::optim
