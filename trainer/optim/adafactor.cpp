#include "trainer/optim/adafactor.h"

#include <algorithm>
#include <cmath>

#include "trainer/optim/state_util.h"

namespace ankh::trainer::optim {

namespace {

// Root mean square, as a 0-d tensor on the tensor's device (no host sync).
torch::Tensor rms(const torch::Tensor& t) { return t.norm(2) / std::sqrt(static_cast<double>(t.numel())); }

}  // namespace

Adafactor::Adafactor(const OptimConfig& config, NamedParams params)
    : beta1_(config.adafactor_beta1),
      decay_(config.adafactor_decay),
      clip_threshold_(config.adafactor_clip_threshold),
      eps1_(config.adafactor_eps1),
      eps2_(config.adafactor_eps2),
      weight_decay_(config.weight_decay),
      relative_step_(config.adafactor_relative_step),
      scale_parameter_(config.adafactor_scale_parameter) {
  detail::check_params(kind(), params);
  torch::NoGradGuard no_grad;
  slots_.reserve(params.size());
  for (auto& [name, p] : params) {
    const auto opts = p.options().dtype(detail::state_dtype(p));
    Slot s{name, p, {}, {}, {}, {}, !exempt_from_weight_decay(name, p)};
    if (p.dim() >= 2) {
      // Row statistics drop the last dimension, column statistics the one before it.
      auto row_shape = p.sizes().vec();
      row_shape.pop_back();
      auto col_shape = p.sizes().vec();
      col_shape.erase(col_shape.end() - 2);
      s.row = torch::zeros(row_shape, opts);
      s.col = torch::zeros(col_shape, opts);
    } else {
      s.sq = torch::zeros(p.sizes(), opts);
    }
    if (beta1_ > 0) s.exp_avg = torch::zeros(p.sizes(), opts);
    slots_.push_back(std::move(s));
  }
}

void Adafactor::step(double lr) {
  torch::NoGradGuard no_grad;
  ++step_;
  const double t = static_cast<double>(step_);
  const double beta2t = 1.0 - std::pow(t, decay_);
  const double rho = relative_step_ ? std::min(1e-2, 1.0 / std::sqrt(t)) : lr;
  for (auto& s : slots_) {
    if (s.param.grad().defined()) update(s, rho, beta2t);
  }
}

void Adafactor::update(Slot& s, double rho, double beta2t) {
  detail::WorkingParam work(s.param);
  torch::Tensor& p = work.tensor();
  const torch::Tensor g = detail::grad_in_state_dtype(s.param);

  // Step size alpha: a plain number, or a device scalar when it depends on RMS(p) (taken before
  // the update, as in the reference).
  torch::Tensor alpha_t;
  if (scale_parameter_) alpha_t = rms(p).clamp_min(eps2_).mul_(rho);

  torch::Tensor u = g.square().add_(eps1_);
  if (s.row.defined()) {
    s.row.mul_(beta2t).add_(u.mean(-1), 1.0 - beta2t);
    s.col.mul_(beta2t).add_(u.mean(-2), 1.0 - beta2t);
    const torch::Tensor r = (s.row / s.row.mean(-1, /*keepdim=*/true)).rsqrt_().unsqueeze(-1);
    const torch::Tensor c = s.col.unsqueeze(-2).rsqrt();
    at::mul_out(u, r, c);  // reuses u's memory for the approximate 1/sqrt(V)
    u.mul_(g);
  } else {
    s.sq.mul_(beta2t).add_(u, 1.0 - beta2t);
    u = s.sq.rsqrt().mul_(g);
  }
  u.div_((rms(u) / clip_threshold_).clamp_min_(1.0));
  if (alpha_t.defined()) {
    u.mul_(alpha_t);
  } else {
    u.mul_(rho);
  }
  if (s.exp_avg.defined()) {
    s.exp_avg.mul_(beta1_).add_(u, 1.0 - beta1_);
    u = s.exp_avg;
  }
  if (weight_decay_ != 0 && s.decay) {
    if (alpha_t.defined()) {
      p.sub_(p * (alpha_t * weight_decay_));
    } else {
      p.add_(p, -weight_decay_ * rho);
    }
  }
  p.sub_(u);
  work.commit();
}

NamedTensors Adafactor::state_tensors() const {
  NamedTensors out;
  out.emplace_back("adafactor.step", detail::step_tensor(step_));
  for (const auto& s : slots_) {
    if (s.row.defined()) {
      out.emplace_back("adafactor.row." + s.name, s.row);
      out.emplace_back("adafactor.col." + s.name, s.col);
    } else {
      out.emplace_back("adafactor.sq." + s.name, s.sq);
    }
    if (s.exp_avg.defined()) out.emplace_back("adafactor.exp_avg." + s.name, s.exp_avg);
  }
  return out;
}

void Adafactor::load_state_tensors(const NamedTensors& state) {
  NamedTensors mine = state_tensors();
  detail::load_named_state(kind(), mine, state);
  step_ = mine.front().second.item<int64_t>();
}

}  // namespace ankh::trainer::optim
