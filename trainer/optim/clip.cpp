#include "trainer/optim/clip.h"

#include <cmath>

namespace ankh::optim {

double clip_grad_norm(const std::vector<torch::Tensor>& grads, double max_norm) {
  torch::NoGradGuard no_grad;
  // _foreach_norm keeps the input dtype, so it only serves fp32/fp64; bf16/fp16 gradients are
  // reduced one by one with an fp32 accumulator instead.
  std::vector<torch::Tensor> f32, f64, norms;
  for (const auto& g : grads) {
    if (!g.defined() || g.numel() == 0) continue;
    if (g.scalar_type() == torch::kFloat32) {
      f32.push_back(g);
    } else if (g.scalar_type() == torch::kFloat64) {
      f64.push_back(g);
    } else {
      norms.push_back(at::linalg_vector_norm(g, 2, c10::nullopt, false, torch::kFloat32).reshape({1}));
    }
  }
  if (!f32.empty()) norms.push_back(at::stack(at::_foreach_norm(f32)));
  if (!f64.empty()) norms.push_back(at::stack(at::_foreach_norm(f64)));
  if (norms.empty()) return 0.0;
  for (auto& n : norms) n = n.to(torch::kFloat64);
  const double norm = at::cat(norms).norm().item<double>();  // the one host sync

  if (max_norm > 0 && std::isfinite(norm)) {
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) {
      std::vector<torch::Tensor> all;
      for (const auto& g : grads)
        if (g.defined() && g.numel() > 0) all.push_back(g);
      at::_foreach_mul_(all, coef);
    }
  }
  return norm;
}

double clip_grad_norm(const NamedParams& params, double max_norm) {
  std::vector<torch::Tensor> grads;
  grads.reserve(params.size());
  for (const auto& [name, p] : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  return clip_grad_norm(grads, max_norm);
}

}  // namespace ankh::optim
