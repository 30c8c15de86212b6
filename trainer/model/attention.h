// Multi-head attention of T5 (Hugging Face's T5Attention): q, k, v, o projections without
// biases, scores NOT scaled by 1/sqrt(d_kv) (the scale is folded into q's initialisation), an
// additive bias (relative position bias + mask) on the scores, softmax in fp32.
#pragma once

#include <cstdint>
#include <string>

#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include "trainer/model/model_config.h"
#include "trainer/model/sample_dropout.h"

namespace ankh::model {

struct AttentionOptions {
  int64_t d_model = 0;
  int64_t num_heads = 0;
  int64_t d_kv = 0;
  bool relative_bias = false;  // owns the relative position table (first layer of a stack)
  bool bidirectional = true;   // encoder buckets (true) or causal decoder buckets (false)
  int64_t num_buckets = 32;
  int64_t max_distance = 128;
  DropoutSite dropout;         // on the attention weights: rate and site id
  AttentionKernel kernel = AttentionKernel::Auto;
};

class AttentionImpl : public torch::nn::Module {
 public:
  explicit AttentionImpl(const AttentionOptions& options);

  // [1, heads, query_len, key_len] relative position bias, in the table's dtype. Only on the
  // layer that owns the table; the stack computes it once and every layer reuses it.
  torch::Tensor compute_bias(int64_t query_len, int64_t key_len);

  // x [B, Lq, d_model]; memory [B, Lk, d_model] for cross-attention, undefined for
  // self-attention; bias additive, broadcastable to [B, heads, Lq, Lk]; keys: the micro-batch's
  // dropout keys (needed in training when dropout > 0). Returns [B, Lq, d_model].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& memory, const torch::Tensor& bias,
                        const DropoutKeys& keys = {});

  // Incremental decoding (eval, plain path, no dropout; decoder_cache.h). The pieces of forward():
  // heads(t) splits [B, L, heads*d_kv] into [B, heads, L, d_kv]; merge() is its inverse followed by o.
  torch::Tensor heads(const torch::Tensor& projected) const;
  torch::Tensor merge(const torch::Tensor& context);
  // softmax(query key^T + bias) value, scores in fp32 (float64 models: float64) as in forward():
  // query [B, heads, Lq, d_kv], key/value [B, heads, Lk, d_kv], bias broadcastable to the scores.
  static torch::Tensor attend(const torch::Tensor& query, const torch::Tensor& key, const torch::Tensor& value,
                              const torch::Tensor& bias);
  // [1, heads, 1, key_len] relative position bias of the single query at `position` over keys
  // 0 .. key_len-1: row `position` of compute_bias(position+1, key_len), without the rest.
  torch::Tensor compute_bias_row(int64_t position, int64_t key_len);

  // Whether forward() on `x` goes through scaled_dot_product_attention (never while dropout is
  // active: see use_sdpa).
  bool uses_sdpa(const torch::Tensor& x) const;

  const AttentionOptions& options() const { return options_; }

  torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};
  torch::nn::Embedding relative_attention_bias{nullptr};

 private:
  AttentionOptions options_;
};
TORCH_MODULE(Attention);

// Whether this build's LibTorch has scaled_dot_product_attention with an explicit scale (>= 2.1).
bool sdpa_available();

// Whether `kernel` (auto | plain | sdpa) means scaled_dot_product_attention for inputs on
// `device`. auto is plain everywhere: sdpa was measured slower for T5's gradient-carrying bias
// (docs/performance.md); it stays selectable for newer LibTorch releases.
bool resolve_sdpa(AttentionKernel kernel, const torch::Device& device);

// Whether attention runs through scaled_dot_product_attention: resolve_sdpa, except while
// dropout is active (training with dropout > 0). sdpa draws its dropout from LibTorch's global
// generator, which cannot give per-sample masks, so dropout always takes the plain path.
bool use_sdpa(AttentionKernel kernel, const torch::Device& device, bool dropout_active);

}  // namespace ankh::model
