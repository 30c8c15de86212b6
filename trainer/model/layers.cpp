#include "trainer/model/layers.h"

#include <torch/version.h>

#include "core/error.h"
#include "trainer/model/gated_activation.h"

// at::rms_norm dispatches to a fused CUDA kernel (forward and backward) from LibTorch 2.8, when
// input and weight share a dtype; before, it is composed of the same ops as below.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 8)
#define ANKH_HAVE_FUSED_RMS_NORM 1
#else
#define ANKH_HAVE_FUSED_RMS_NORM 0
#endif

namespace ankh::model {

bool fused_rms_norm_available() { return ANKH_HAVE_FUSED_RMS_NORM != 0; }

RMSNormImpl::RMSNormImpl(int64_t dim, double eps, bool fused) : eps_(eps), fused_(fused) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
#if ANKH_HAVE_FUSED_RMS_NORM
  if (fused_ && x.is_cuda() && x.scalar_type() == torch::kFloat && weight.scalar_type() == torch::kFloat)
    return at::rms_norm(x, {x.size(-1)}, weight, eps_);
#endif
  const torch::Tensor wide = x.scalar_type() == torch::kDouble ? x : x.to(torch::kFloat);
  const torch::Tensor variance = wide.pow(2).mean(-1, /*keepdim=*/true);
  torch::Tensor y = x * torch::rsqrt(variance + eps_);
  if (weight.scalar_type() == torch::kHalf || weight.scalar_type() == torch::kBFloat16)
    y = y.to(weight.scalar_type());
  return weight * y;
}

torch::Tensor linear_stacked(const torch::Tensor& x, const std::vector<torch::Tensor>& weights) {
  return torch::linear(x, at::cat(weights));
}

std::vector<torch::Tensor> linear_concatenated(const torch::Tensor& x, const std::vector<torch::Tensor>& weights) {
  std::vector<int64_t> rows;
  for (const auto& w : weights) rows.push_back(w.size(0));
  return linear_stacked(x, weights).split_with_sizes(rows, -1);
}

bool is_gated(Activation activation) { return activation != Activation::Relu; }

FeedForwardImpl::FeedForwardImpl(const ModelConfig& config, DropoutSite dropout)
    : activation_(config.activation),
      dropout_(dropout),
      fuse_projections_(config.fuse_projections),
      fused_activation_(config.fused_activation) {
  const int64_t d_model = config.d_model, d_ff = config.d_ff;
  auto linear = [](int64_t in, int64_t out) { return torch::nn::LinearOptions(in, out).bias(false); };
  if (!is_gated(activation_)) {
    wi = register_module("wi", torch::nn::Linear(linear(d_model, d_ff)));
  } else {
    wi_0 = register_module("wi_0", torch::nn::Linear(linear(d_model, d_ff)));
    wi_1 = register_module("wi_1", torch::nn::Linear(linear(d_model, d_ff)));
  }
  wo = register_module("wo", torch::nn::Linear(linear(d_ff, d_model)));
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x, const DropoutKeys& keys) {
  torch::Tensor h;
  if (activation_ == Activation::Relu) {
    h = torch::relu(wi(x));
  } else if (fuse_projections_) {
    h = gated_activation(linear_stacked(x, {wi_0->weight, wi_1->weight}), activation_, fused_activation_);
  } else {
    h = gated_activation(wi_0(x), wi_1(x), activation_);
  }
  return wo(dropout_.apply(h, keys, is_training()));
}

}  // namespace ankh::model
