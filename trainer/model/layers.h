// The small building blocks of T5 v1.1, each matching its Hugging Face counterpart (and its
// parameter names): RMSNorm (T5LayerNorm) and the feed-forward block (DenseReluDense).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include "trainer/model/model_config.h"
#include "trainer/model/sample_dropout.h"

namespace ankh::model {

// y = weight * x / sqrt(mean(x^2) + eps): no mean subtraction, no bias. The statistics are taken
// in fp32 whatever the input dtype (float64 stays float64, for gradient checks); the output is
// fp32 (or the weight's dtype when the weights themselves are half precision), as in HF.
// fused: on CUDA with fp32 input and weight (training under autocast: the residual stream is
// fp32), LibTorch's fused kernel (at::rms_norm, LibTorch >= 2.8) computes the same in one kernel
// forward and one backward instead of some six and ten, keeping only x and 1/rms for backward.
class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t dim, double eps, bool fused = true);
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight;

 private:
  double eps_;
  bool fused_;
};

// Whether this build's LibTorch has the fused CUDA RMSNorm (>= 2.8) that RMSNorm(fused) uses.
bool fused_rms_norm_available();
TORCH_MODULE(RMSNorm);

// The feed-forward block. gated-gelu / gated-silu: wo(act(wi_0 x) * wi_1 x) with act = GELU (tanh
// approximation, HF's gelu_new) or SiLU; relu: wo(relu(wi x)). Dropout before wo, at `dropout`
// (its rate and site id). config.fuse_projections: wi_0 x and wi_1 x as one GEMM over the
// concatenated weights (the parameters stay wi_0 and wi_1); with it, config.fused_activation:
// act(.) * (.) by ankh's CUDA kernel on CUDA tensors (gated_activation.h).
class FeedForwardImpl : public torch::nn::Module {
 public:
  FeedForwardImpl(const ModelConfig& config, DropoutSite dropout = {});
  // x [B, L, d_model]; keys: the micro-batch's dropout keys (needed in training when dropout > 0).
  torch::Tensor forward(const torch::Tensor& x, const DropoutKeys& keys = {});

  torch::nn::Linear wi{nullptr}, wi_0{nullptr}, wi_1{nullptr}, wo{nullptr};

 private:
  Activation activation_;
  DropoutSite dropout_;
  bool fuse_projections_;
  bool fused_activation_;
};
TORCH_MODULE(FeedForward);

// x times each of `weights` ([out_i, in] like a Linear's), as one GEMM over the weights
// concatenated by rows; returns the products in order, as views of that GEMM's output. For
// projections that share an input (q/k/v, wi_0/wi_1): the parameters stay separate, so names,
// checkpoints and optimizer state do not change, and the gradients reach each one.
std::vector<torch::Tensor> linear_concatenated(const torch::Tensor& x, const std::vector<torch::Tensor>& weights);
// The same GEMM's output unsplit: [..., sum of out_i].
torch::Tensor linear_stacked(const torch::Tensor& x, const std::vector<torch::Tensor>& weights);

// Whether `activation` is one of the gated variants (three matrices).
bool is_gated(Activation activation);

}  // namespace ankh::model
