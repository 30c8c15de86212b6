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
#pragma once

#include "trainer/optim/optimizer.h"

namespace ankh::trainer::optim {

class Adafactor final : public Optimizer {
 public:
  Adafactor(const OptimConfig& config, NamedParams params);

  void step(double lr) override;
  NamedTensors state_tensors() const override;
  void load_state_tensors(const NamedTensors& state) override;
  int64_t step_count() const override { return step_; }
  const char* kind() const override { return "adafactor"; }

 private:
  struct Slot {
    std::string name;
    torch::Tensor param;
    torch::Tensor row, col;  // factored second moment (parameters with >= 2 dimensions)
    torch::Tensor sq;        // full second moment (vectors)
    torch::Tensor exp_avg;   // first moment, only when beta1 > 0
    bool decay = true;
  };
  void update(Slot& s, double rho, double beta2t);

  std::vector<Slot> slots_;
  double beta1_, decay_, clip_threshold_, eps1_, eps2_, weight_decay_;
  bool relative_step_, scale_parameter_;
  int64_t step_ = 0;
};

}  // namespace ankh::trainer::optim
