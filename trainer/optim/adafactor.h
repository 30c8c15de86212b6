// Adafactor (Shazeer & Stern 2018) exactly as Hugging Face transformers.optimization.Adafactor
// and T5 run it:
//   beta2_t = 1 - t^decay                                    (decay -0.8; beta2_1 = 0)
//   G = g^2 + eps1
//   matrices (>= 2-D): R = beta2_t R + (1-beta2_t) mean_cols(G),  C = beta2_t C + (1-beta2_t) mean_rows(G)
//                      V = (R / mean(R)) outer C;   vectors: V = beta2_t V + (1-beta2_t) G
//   U = g / sqrt(V);   U /= max(1, RMS(U) / clip_threshold)
//   rho = relative_step ? min(1e-2, 1/sqrt(t)) : lr;   alpha = rho * (scale_parameter ? max(eps2, RMS(p)) : 1)
//   U *= alpha;  momentum (beta1 > 0): M = beta1 M + (1-beta1) U, U = M
//   p -= alpha*wd*p (not for exempt_from_weight_decay parameters);   p -= U
// State in fp32 (fp64 for fp64 parameters); no host synchronisation (RMS values stay on device).
// Results agree with the reference to fp32 rounding (the fused per-group arithmetic rounds once
// where the reference rounds twice).
#pragma once

#include "trainer/optim/adafactor_fused.h"
#include "trainer/optim/optimizer.h"

namespace ankh::optim {

class Adafactor final : public Optimizer {
 public:
  // Most elements one group of same-shaped parameters stacks (64 Mi: 256 MB per fp32 temporary),
  // so the stacked gradients and updates of a large model never cost more than about 1 GB.
  static constexpr int64_t kMaxGroupElements = int64_t{1} << 26;

  // max_group_elements <= 0 updates every parameter on its own, one kernel sequence each (the
  // straightforward way; the baseline of the benchmark, same results to rounding).
  Adafactor(const OptimConfig& config, NamedParams params, int64_t max_group_elements = kMaxGroupElements);

  void step(double lr) override;
  NamedTensors state_tensors() const override;
  void load_state_tensors(const NamedTensors& state) override;
  int64_t step_count() const override { return step_; }
  const char* kind() const override { return "adafactor"; }

 private:
  // Parameters of one shape, dtype and device are updated together: their state is stacked along
  // a new first dimension, so a step costs ~25 kernels per group instead of ~25 per parameter
  // (ankh-base: 774 parameters in 7 groups; 8x faster on an H200). Groups are capped in size to
  // bound the temporaries (stacked gradients and updates).
  struct Group {
    std::vector<torch::Tensor> params;
    torch::Tensor row, col;  // factored second moment (>= 2-D parameters): [k, ...]
    torch::Tensor sq;        // full second moment (vectors): [k, ...]
    torch::Tensor exp_avg;   // first moment, only when beta1 > 0: [k, ...]
    torch::Tensor decay;     // [k]: 1 for members that get weight decay, else 0
    bool factored = false;
    bool any_decay = false;  // some member gets weight decay
    DevicePointers pointers;  // for the fused step (adafactor_fused.h)
  };
  struct Member {
    std::string name;
    size_t group, index;
  };
  void step_group(Group& g, double rho, double beta2t);
  // Whether the group's step goes to fused_factored_step (optim.adafactor_fused).
  bool takes_fused_step(const Group& g) const;
  // A member alone (when some members of its group have no gradient), on views of the stacked state.
  void step_member(Group& g, size_t i, double rho, double beta2t);

  std::vector<Group> groups_;
  std::vector<Member> members_;  // in the order the parameters were given
  double beta1_, decay_, clip_threshold_, eps1_, eps2_, weight_decay_;
  bool relative_step_, scale_parameter_, fused_;
  bool grouped_;
  int64_t step_ = 0;
};

}  // namespace ankh::optim
