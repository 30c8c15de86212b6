#include "trainer/model/attention.h"

#include <torch/version.h>

#include "core/error.h"
#include "trainer/model/attention_core.h"
#include "trainer/model/layers.h"
#include "trainer/model/relative_position.h"

// scaled_dot_product_attention appeared in 2.0; its `scale` argument (T5 needs 1.0) in 2.1.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
#define ANKH_HAVE_SDPA 1
#else
#define ANKH_HAVE_SDPA 0
#endif

namespace ankh::model {

bool sdpa_available() { return ANKH_HAVE_SDPA != 0; }

AttentionPath attention_path(AttentionKernel kernel, bool dropout_active) {
  if (kernel == AttentionKernel::Sdpa && !sdpa_available())
    throw core::Error("model.attention=sdpa needs LibTorch >= 2.1", "model.attention",
                      "use model.attention=auto, fused or plain with this build");
  if (dropout_active) return AttentionPath::Plain;
  switch (kernel) {
    case AttentionKernel::Plain: return AttentionPath::Plain;
    case AttentionKernel::Sdpa: return AttentionPath::Sdpa;
    case AttentionKernel::Auto:
    case AttentionKernel::Fused: return AttentionPath::Fused;
  }
  return AttentionPath::Plain;
}

AttentionImpl::AttentionImpl(const AttentionOptions& options) : options_(options) {
  const int64_t inner = options.num_heads * options.d_kv;
  auto linear = [](int64_t in, int64_t out) { return torch::nn::LinearOptions(in, out).bias(false); };
  q = register_module("q", torch::nn::Linear(linear(options.d_model, inner)));
  k = register_module("k", torch::nn::Linear(linear(options.d_model, inner)));
  v = register_module("v", torch::nn::Linear(linear(options.d_model, inner)));
  o = register_module("o", torch::nn::Linear(linear(inner, options.d_model)));
  if (options.relative_bias)
    relative_attention_bias = register_module(
        "relative_attention_bias", torch::nn::Embedding(options.num_buckets, options.num_heads));
}

torch::Tensor AttentionImpl::compute_bias(int64_t query_len, int64_t key_len) {
  if (!relative_attention_bias)
    throw core::Error("compute_bias called on an attention layer without a relative position table",
                      "model::Attention");
  const torch::Device device = relative_attention_bias->weight.device();
  const torch::Tensor buckets =
      relative_position_bucket(relative_positions(query_len, key_len, device), options_.bidirectional,
                               options_.num_buckets, options_.max_distance);
  const torch::Tensor values = relative_attention_bias(buckets);  // [Lq, Lk, heads]
  return values.permute({2, 0, 1}).unsqueeze(0);
}

torch::Tensor AttentionImpl::compute_bias_row(int64_t position, int64_t key_len) {
  if (!relative_attention_bias)
    throw core::Error("compute_bias_row called on an attention layer without a relative position table",
                      "model::Attention");
  const torch::Device device = relative_attention_bias->weight.device();
  const torch::Tensor relative = torch::arange(key_len, torch::TensorOptions().dtype(torch::kLong).device(device)) - position;
  const torch::Tensor buckets = relative_position_bucket(relative, options_.bidirectional, options_.num_buckets,
                                                         options_.max_distance);
  const torch::Tensor values = relative_attention_bias(buckets);  // [Lk, heads]
  return values.t().unsqueeze(0).unsqueeze(2);                     // [1, heads, 1, Lk]
}

torch::Tensor AttentionImpl::heads(const torch::Tensor& projected) const {
  return projected.view({projected.size(0), projected.size(1), options_.num_heads, options_.d_kv}).transpose(1, 2);
}

torch::Tensor AttentionImpl::merge(const torch::Tensor& context) {
  const int64_t batch = context.size(0), query_len = context.size(2);
  return o(context.transpose(1, 2).reshape({batch, query_len, options_.num_heads * options_.d_kv}));
}

torch::Tensor AttentionImpl::attend(const torch::Tensor& query, const torch::Tensor& key, const torch::Tensor& value,
                                    const torch::Tensor& bias) {
  torch::Tensor scores = torch::matmul(query, key.transpose(-1, -2));
  if (scores.scalar_type() != torch::kFloat && scores.scalar_type() != torch::kDouble)
    scores = scores.to(torch::kFloat);
  scores.add_(bias);
  return torch::matmul(torch::softmax(scores, -1).to(value.scalar_type()), value);
}

AttentionPath AttentionImpl::path() const {
  return attention_path(options_.kernel, options_.dropout.active(is_training()));
}

std::array<torch::Tensor, 3> AttentionImpl::project(const torch::Tensor& x, const torch::Tensor& memory) {
  if (memory.defined()) {
    auto [key, value] = project_memory(memory);
    return {q(x), key, value};
  }
  if (!options_.fuse_projections) return {q(x), k(x), v(x)};
  const std::vector<torch::Tensor> qkv = linear_concatenated(x, {q->weight, k->weight, v->weight});
  return {qkv[0], qkv[1], qkv[2]};
}

std::pair<torch::Tensor, torch::Tensor> AttentionImpl::project_memory(const torch::Tensor& memory) {
  if (!options_.fuse_projections) return {k(memory), v(memory)};
  const std::vector<torch::Tensor> kv = linear_concatenated(memory, {k->weight, v->weight});
  return {kv[0], kv[1]};
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& memory, const ScoreBias& bias,
                                     const DropoutKeys& keys) {
  const int64_t batch = x.size(0), query_len = x.size(1), key_len = memory.defined() ? memory.size(1) : query_len;
  const int64_t heads = options_.num_heads, d_kv = options_.d_kv;
  auto split_heads = [&](const torch::Tensor& t, int64_t length) {
    return t.view({batch, length, heads, d_kv}).transpose(1, 2);  // [B, heads, L, d_kv]
  };
  const auto [q_proj, k_proj, v_proj] = project(x, memory);
  const torch::Tensor query = split_heads(q_proj, query_len);
  const torch::Tensor key = split_heads(k_proj, key_len);
  const torch::Tensor value = split_heads(v_proj, key_len);

  torch::Tensor context;
  switch (path()) {
    case AttentionPath::Fused: context = fused_attention(query, key, value, bias.added, bias.position); break;
    case AttentionPath::Sdpa: {
#if ANKH_HAVE_SDPA
      const torch::Tensor& b = bias.added;
      const torch::Tensor mask = b.scalar_type() == query.scalar_type() ? b : b.to(query.scalar_type());
      // No dropout here: with dropout active, attention_path chose the plain path (per-sample masks).
      context = at::scaled_dot_product_attention(query, key, value, mask, /*dropout_p=*/0.0, /*is_causal=*/false,
                                                 /*scale=*/1.0);
#endif
      break;
    }
    case AttentionPath::Plain: {
      torch::Tensor scores = torch::matmul(query, key.transpose(-1, -2));  // [B, heads, Lq, Lk], no scaling
      // Hugging Face adds the bias and takes the softmax in fp32 (float64 models stay float64).
      if (scores.scalar_type() != torch::kFloat && scores.scalar_type() != torch::kDouble)
        scores = scores.to(torch::kFloat);
      scores.add_(bias.added);
      torch::Tensor weights = torch::softmax(scores, -1).to(value.scalar_type());
      weights = options_.dropout.apply(weights, keys, is_training());  // per sample, at (head, query, key)
      context = torch::matmul(weights, value);
      break;
    }
  }
  return o(context.transpose(1, 2).reshape({batch, query_len, heads * d_kv}));
}

}  // namespace ankh::model
