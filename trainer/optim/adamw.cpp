#include "trainer/optim/adamw.h"

#include <torch/version.h>

#include <cmath>

#include "trainer/optim/state_util.h"

namespace ankh::optim {

namespace {
constexpr const char* kStepName = "adamw.step";
}  // namespace

AdamW::AdamW(const OptimConfig& config, NamedParams params)
    : beta1_(config.beta1), beta2_(config.beta2), eps_(config.eps), weight_decay_(config.weight_decay) {
  detail::check_params(kind(), params);
  torch::NoGradGuard no_grad;
  slots_.reserve(params.size());
  for (auto& [name, p] : params) {
    const auto opts = p.options().dtype(detail::state_dtype(p));
    slots_.push_back({name, p, torch::zeros(p.sizes(), opts), torch::zeros(p.sizes(), opts),
                      !exempt_from_weight_decay(name, p)});
  }
}

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  ++step_;
  // Gather the parameters that have a gradient; low-precision ones get an fp32 working copy.
  std::vector<detail::WorkingParam> work;
  std::vector<torch::Tensor> p, g, m, v, p_decay;
  work.reserve(slots_.size());
  for (auto& s : slots_) {
    if (!s.param.grad().defined()) continue;
    work.emplace_back(s.param);
    p.push_back(work.back().tensor());
    g.push_back(detail::grad_in_state_dtype(s.param));
    m.push_back(s.exp_avg);
    v.push_back(s.exp_avg_sq);
    if (s.decay) p_decay.push_back(work.back().tensor());
  }
  if (p.empty()) return;

  // torch.optim.AdamW's update, with 1/sqrt(1 - b2^t) folded into the step size to save a pass:
  // p -= lr*sqrt(bc2)/bc1 * m / (sqrt(v) + eps*sqrt(bc2)).
  if (weight_decay_ != 0 && !p_decay.empty()) at::_foreach_mul_(p_decay, 1.0 - lr * weight_decay_);
  const double t = static_cast<double>(step_);
  const double bias_correction1 = 1.0 - std::pow(beta1_, t);
  const double sqrt_bias_correction2 = std::sqrt(1.0 - std::pow(beta2_, t));
#if TORCH_VERSION_MAJOR >= 2
  at::_foreach_lerp_(m, g, 1.0 - beta1_);  // one pass instead of two (not in LibTorch 1.13)
#else
  at::_foreach_mul_(m, beta1_);
  at::_foreach_add_(m, g, 1.0 - beta1_);
#endif
  at::_foreach_mul_(v, beta2_);
  at::_foreach_addcmul_(v, g, g, 1.0 - beta2_);
  std::vector<torch::Tensor> denom = at::_foreach_sqrt(v);
  at::_foreach_add_(denom, eps_ * sqrt_bias_correction2);
  at::_foreach_addcdiv_(p, m, denom, -lr * sqrt_bias_correction2 / bias_correction1);
  for (auto& w : work) w.commit();
}

NamedTensors AdamW::state_tensors() const {
  NamedTensors out;
  out.emplace(kStepName, detail::step_tensor(step_));
  for (const auto& s : slots_) out.emplace("adamw.exp_avg." + s.name, s.exp_avg);
  for (const auto& s : slots_) out.emplace("adamw.exp_avg_sq." + s.name, s.exp_avg_sq);
  return out;
}

void AdamW::load_state_tensors(const NamedTensors& state) {
  // Loads into our own buffers; the step comes back through the fresh step tensor.
  NamedTensors mine = state_tensors();
  detail::load_named_state(kind(), mine, state);
  step_ = mine.at(kStepName).item<int64_t>();
}

}  // namespace ankh::optim
