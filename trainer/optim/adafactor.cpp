#include "trainer/optim/adafactor.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "trainer/optim/state_util.h"

namespace ankh::optim {

namespace {

constexpr const char* kStepName = "adafactor.step";

// Root mean square, as a 0-d tensor on the tensor's device (no host sync).
torch::Tensor rms(const torch::Tensor& t) { return t.norm(2) / std::sqrt(static_cast<double>(t.numel())); }

// Root mean square of each slice along the first dimension: [k, ...] -> [k].
torch::Tensor rms_per_member(const torch::Tensor& stacked) {
  const int64_t k = stacked.size(0);
  const int64_t n = stacked.numel() / std::max<int64_t>(k, 1);
  return stacked.reshape({k, -1}).norm(2, {1}) / std::sqrt(static_cast<double>(n));
}

// [k] -> [k, 1, 1, ...] broadcastable against a stacked [k, ...] tensor.
torch::Tensor per_member(const torch::Tensor& v, const torch::Tensor& stacked) {
  std::vector<int64_t> shape(stacked.dim(), 1);
  shape[0] = v.size(0);
  return v.view(shape);
}

std::vector<int64_t> stacked_shape(int64_t k, std::vector<int64_t> shape) {
  shape.insert(shape.begin(), k);
  return shape;
}

}  // namespace

Adafactor::Adafactor(const OptimConfig& config, NamedParams params, int64_t max_group_elements)
    : beta1_(config.adafactor_beta1),
      decay_(config.adafactor_decay),
      clip_threshold_(config.adafactor_clip_threshold),
      eps1_(config.adafactor_eps1),
      eps2_(config.adafactor_eps2),
      weight_decay_(config.weight_decay),
      relative_step_(config.adafactor_relative_step),
      scale_parameter_(config.adafactor_scale_parameter),
      fused_(config.adafactor_fused),
      grouped_(max_group_elements > 0) {
  detail::check_params(kind(), params);
  torch::NoGradGuard no_grad;

  // Group by (shape, dtype, device), in order of first appearance, starting a new group when one
  // would grow past max_group_elements.
  using Key = std::tuple<std::vector<int64_t>, torch::ScalarType, std::string>;
  std::map<Key, size_t> open;  // key -> index of the group still accepting members
  std::vector<std::vector<bool>> decays;
  for (auto& [name, p] : params) {
    const Key key{p.sizes().vec(), p.scalar_type(), p.device().str()};
    auto it = open.find(key);
    if (it == open.end() ||
        static_cast<int64_t>(groups_[it->second].params.size() + 1) * p.numel() > max_group_elements) {
      groups_.emplace_back();
      decays.emplace_back();
      it = open.insert_or_assign(key, groups_.size() - 1).first;
    }
    Group& g = groups_[it->second];
    members_.push_back({name, it->second, g.params.size()});
    g.params.push_back(p);
    decays[it->second].push_back(!exempt_from_weight_decay(name, p));
  }

  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    Group& g = groups_[gi];
    const torch::Tensor& p = g.params.front();
    const int64_t k = static_cast<int64_t>(g.params.size());
    const auto opts = p.options().dtype(detail::state_dtype(p));
    g.factored = p.dim() >= 2;
    if (g.factored) {
      // Row statistics drop the last dimension, column statistics the one before it.
      auto row_shape = p.sizes().vec();
      row_shape.pop_back();
      auto col_shape = p.sizes().vec();
      col_shape.erase(col_shape.end() - 2);
      g.row = torch::zeros(stacked_shape(k, row_shape), opts);
      g.col = torch::zeros(stacked_shape(k, col_shape), opts);
    } else {
      g.sq = torch::zeros(stacked_shape(k, p.sizes().vec()), opts);
    }
    if (beta1_ > 0) g.exp_avg = torch::zeros(stacked_shape(k, p.sizes().vec()), opts);
    std::vector<double> mask(decays[gi].begin(), decays[gi].end());
    g.decay = torch::tensor(mask, torch::kFloat64).to(opts.device(), detail::state_dtype(p));
    g.any_decay = std::find(mask.begin(), mask.end(), 1.0) != mask.end();
  }
}

void Adafactor::step(double lr) {
  torch::NoGradGuard no_grad;
  ++step_;
  const double t = static_cast<double>(step_);
  const double beta2t = 1.0 - std::pow(t, decay_);
  const double rho = relative_step_ ? std::min(1e-2, 1.0 / std::sqrt(t)) : lr;
  for (auto& g : groups_) {
    size_t with_grad = 0;
    for (const auto& p : g.params) with_grad += p.grad().defined();
    if (grouped_ && with_grad == g.params.size()) {
      step_group(g, rho, beta2t);
    } else {
      for (size_t i = 0; i < g.params.size(); ++i)
        if (g.params[i].grad().defined()) step_member(g, i, rho, beta2t);
    }
  }
}

bool Adafactor::takes_fused_step(const Group& g) const {
  return fused_ && g.factored && !g.exp_avg.defined() && !(weight_decay_ != 0 && g.any_decay) &&
         fused_adafactor_applies(g.params);
}

void Adafactor::step_group(Group& g, double rho, double beta2t) {
  if (takes_fused_step(g)) {
    fused_factored_step(g.params, g.row, g.col, g.pointers,
                        {beta2t, eps1_, clip_threshold_, rho, eps2_, scale_parameter_});
    return;
  }
  const auto dtype = g.decay.scalar_type();
  std::vector<torch::Tensor> grads;
  grads.reserve(g.params.size());
  for (const auto& p : g.params) grads.push_back(p.grad());
  const torch::Tensor grad = at::stack(grads).to(dtype);  // [k, ...]
  const bool decays = weight_decay_ != 0 && g.any_decay;
  const bool need_params = scale_parameter_ || decays;
  const torch::Tensor params = need_params ? at::stack(g.params).to(dtype) : torch::Tensor();

  torch::Tensor u = grad.square().add_(eps1_);
  if (g.factored) {
    g.row.mul_(beta2t).add_(u.mean(-1), 1.0 - beta2t);
    g.col.mul_(beta2t).add_(u.mean(-2), 1.0 - beta2t);
    const torch::Tensor r = (g.row / g.row.mean(-1, /*keepdim=*/true)).rsqrt_().unsqueeze(-1);
    const torch::Tensor c = g.col.unsqueeze(-2).rsqrt();
    at::mul_out(u, r, c);  // reuses u's memory for the approximate 1/sqrt(V)
    u.mul_(grad);
  } else {
    g.sq.mul_(beta2t).add_(u, 1.0 - beta2t);
    u = g.sq.rsqrt().mul_(grad);
  }
  // Per member: alpha = rho * (max(eps2, RMS(p)) or 1), and the update clipping, in one factor.
  torch::Tensor alpha = scale_parameter_ ? rms_per_member(params).clamp_min_(eps2_).mul_(rho)
                                         : torch::full({g.decay.size(0)}, rho, g.decay.options());
  u.mul_(per_member(alpha / (rms_per_member(u) / clip_threshold_).clamp_min_(1.0), u));
  if (g.exp_avg.defined()) {
    g.exp_avg.mul_(beta1_).add_(u, 1.0 - beta1_);
    u = g.exp_avg;
  }
  // p -= alpha*wd*p (decayed members) and p -= u, as one subtraction of u + alpha*wd*mask*p.
  if (decays) u = at::addcmul(u, params, per_member(alpha * g.decay * weight_decay_, u));
  at::_foreach_sub_(g.params, u.unbind(0));
}

void Adafactor::step_member(Group& g, size_t i, double rho, double beta2t) {
  const auto index = static_cast<int64_t>(i);
  detail::WorkingParam work(g.params[i]);
  torch::Tensor& p = work.tensor();
  const torch::Tensor grad = detail::grad_in_state_dtype(g.params[i]);

  torch::Tensor alpha;  // a device scalar when it depends on RMS(p), taken before the update
  if (scale_parameter_) alpha = rms(p).clamp_min(eps2_).mul_(rho);

  torch::Tensor u = grad.square().add_(eps1_);
  if (g.factored) {
    torch::Tensor row = g.row.select(0, index), col = g.col.select(0, index);
    row.mul_(beta2t).add_(u.mean(-1), 1.0 - beta2t);
    col.mul_(beta2t).add_(u.mean(-2), 1.0 - beta2t);
    const torch::Tensor r = (row / row.mean(-1, /*keepdim=*/true)).rsqrt_().unsqueeze(-1);
    const torch::Tensor c = col.unsqueeze(-2).rsqrt();
    at::mul_out(u, r, c);
    u.mul_(grad);
  } else {
    torch::Tensor sq = g.sq.select(0, index);
    sq.mul_(beta2t).add_(u, 1.0 - beta2t);
    u = sq.rsqrt().mul_(grad);
  }
  u.div_((rms(u) / clip_threshold_).clamp_min_(1.0));
  if (alpha.defined()) {
    u.mul_(alpha);
  } else {
    u.mul_(rho);
  }
  if (g.exp_avg.defined()) {
    torch::Tensor m = g.exp_avg.select(0, index);
    m.mul_(beta1_).add_(u, 1.0 - beta1_);
    u = m;
  }
  if (weight_decay_ != 0 && g.any_decay) {
    const torch::Tensor decay = g.decay.select(0, index) * weight_decay_;
    p.sub_(p * (alpha.defined() ? alpha * decay : decay * rho));
  }
  p.sub_(u);
  work.commit();
}

NamedTensors Adafactor::state_tensors() const {
  NamedTensors out;
  out.emplace(kStepName, detail::step_tensor(step_));
  for (const auto& m : members_) {
    const Group& g = groups_[m.group];
    const auto i = static_cast<int64_t>(m.index);
    if (g.factored) {
      out.emplace("adafactor.row." + m.name, g.row.select(0, i));
      out.emplace("adafactor.col." + m.name, g.col.select(0, i));
    } else {
      out.emplace("adafactor.sq." + m.name, g.sq.select(0, i));
    }
    if (g.exp_avg.defined()) out.emplace("adafactor.exp_avg." + m.name, g.exp_avg.select(0, i));
  }
  return out;
}

void Adafactor::load_state_tensors(const NamedTensors& state) {
  // Loads into views of our stacked buffers; the step comes back through the fresh step tensor.
  NamedTensors mine = state_tensors();
  detail::load_named_state(kind(), mine, state);
  step_ = mine.at(kStepName).item<int64_t>();
}

}  // namespace ankh::optim
