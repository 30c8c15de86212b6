// Multi-head attention of T5 (Hugging Face's T5Attention): q, k, v, o projections without
// biases, scores NOT scaled by 1/sqrt(d_kv) (the scale is folded into q's initialisation), an
// additive bias (relative position bias + mask) on the scores, softmax with fp32 statistics.
// Three ways to compute the core (model.attention): plain (LibTorch ops under autograd, fp32
// scores, as Hugging Face), fused (one autograd node, attention_core.h) and sdpa.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>

#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include "trainer/model/model_config.h"
#include "trainer/model/sample_dropout.h"

namespace ankh::model {

// What is added to a layer's attention scores. On the plain and sdpa paths `added` carries its
// own gradient and `position` is undefined. On the fused path `added` is a detached copy in the
// compute dtype and the gradient goes to `position`, the relative position bias
// [1, heads, Lq, Lk] whose values `added` holds (undefined for cross-attention: only a mask).
struct ScoreBias {
  torch::Tensor added;
  torch::Tensor position;
};

// How a layer computes its attention core: model.attention resolved (attention_path below).
enum class AttentionPath { Plain, Fused, Sdpa };

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
  // One GEMM for q, k and v (cross-attention: for k and v) with the weights concatenated; the
  // parameters, their names and their gradients stay those of separate q, k, v.
  bool fuse_projections = true;
};

class AttentionImpl : public torch::nn::Module {
 public:
  explicit AttentionImpl(const AttentionOptions& options);

  // [1, heads, query_len, key_len] relative position bias, in the table's dtype. Only on the
  // layer that owns the table; the stack computes it once and every layer reuses it.
  torch::Tensor compute_bias(int64_t query_len, int64_t key_len);

  // x [B, Lq, d_model]; memory [B, Lk, d_model] for cross-attention, undefined for
  // self-attention; bias: additive, broadcastable to [B, heads, Lq, Lk], made for path() (the
  // stack builds it once for all layers); keys: the micro-batch's dropout keys (needed in
  // training when dropout > 0). Returns [B, Lq, d_model].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& memory, const ScoreBias& bias,
                        const DropoutKeys& keys = {});

  // q(x), k(source), v(source), [B, L, heads*d_kv] each, with source = memory for
  // cross-attention, else x: one GEMM for the projections that share an input when
  // options().fuse_projections. project_memory: k(memory), v(memory) alone.
  std::array<torch::Tensor, 3> project(const torch::Tensor& x, const torch::Tensor& memory);
  std::pair<torch::Tensor, torch::Tensor> project_memory(const torch::Tensor& memory);

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

  // The path forward() takes now (training mode decides whether dropout is active).
  AttentionPath path() const;

  const AttentionOptions& options() const { return options_; }

  torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};
  torch::nn::Embedding relative_attention_bias{nullptr};

 private:
  AttentionOptions options_;
};
TORCH_MODULE(Attention);

// Whether this build's LibTorch has scaled_dot_product_attention with an explicit scale (>= 2.1).
bool sdpa_available();

// What `kernel` (auto | plain | fused | sdpa) computes with. auto is fused: the same arithmetic
// as plain in fp32, fewer passes and no fp32 score matrix under bf16 (attention_core.h). sdpa
// was measured slower than plain for T5's gradient-carrying bias (docs/performance.md) and stays
// selectable; it throws where LibTorch lacks it. While dropout is active (training with
// dropout > 0) every kernel takes the plain path: the per-sample dropout of the attention weights
// (sample_dropout.h) lives there, and sdpa's dropout cannot be keyed per sample.
AttentionPath attention_path(AttentionKernel kernel, bool dropout_active);

}  // namespace ankh::model
