#include "trainer/model/stack.h"

#include "trainer/model/activation_checkpoint.h"
#include "trainer/model/attention_mask.h"
#include "trainer/model/precision.h"

namespace ankh::model {

StackImpl::StackImpl(const ModelConfig& config, bool is_decoder)
    : config_(config),
      is_decoder_(is_decoder),
      embeddings_dropout_{config.dropout, dropout_site(is_decoder, 0, DropoutPoint::Embeddings)},
      final_dropout_{config.dropout, dropout_site(is_decoder, 0, DropoutPoint::Final)} {
  block = register_module("block", torch::nn::ModuleList());
  const int64_t layers = is_decoder ? config.decoder_layers : config.encoder_layers;
  for (int64_t i = 0; i < layers; ++i) {
    blocks_.push_back(Block(config, is_decoder, /*index=*/i));  // block 0 owns the position table
    block->push_back(blocks_.back());
  }
  final_layer_norm = register_module("final_layer_norm", RMSNorm(config.d_model, config.layer_norm_eps, config.fused_norm));
}

namespace {

// The dtype in which attention scores meet the bias. The plain path adds it in fp32 (float64
// models: float64), like HF. The fused path and scaled_dot_product_attention add it in the dtype
// of q: bf16 under autocast, else the model's own dtype; the masks then use that dtype's lowest
// value so that converting them does not overflow to -inf.
torch::ScalarType score_dtype(AttentionPath path, const torch::Tensor& embeds) {
  if (embeds.scalar_type() == torch::kDouble) return torch::kDouble;
  if (path == AttentionPath::Plain) return torch::kFloat;
  if (embeds.is_cuda()) {
    const AutocastState autocast = AutocastState::current();
    if (autocast.enabled) return autocast.dtype;
  }
  return embeds.scalar_type();  // a model cast to bf16 (inference with --dtype bf16) computes in bf16
}

torch::Tensor ones_if_undefined(const torch::Tensor& mask, const torch::Tensor& like) {
  if (mask.defined()) return mask;
  return torch::ones({like.size(0), like.size(1)}, torch::TensorOptions().dtype(torch::kLong).device(like.device()));
}

}  // namespace

torch::Tensor StackImpl::forward(const torch::Tensor& embeds, const torch::Tensor& mask, const torch::Tensor& memory,
                                 const torch::Tensor& memory_mask, const DropoutKeys& keys) {
  const int64_t length = embeds.size(1);
  const AttentionPath path = attention_path(config_.attention, embeddings_dropout_.active(is_training()));
  const torch::ScalarType dtype = score_dtype(path, embeds);
  const torch::Tensor self_mask = ones_if_undefined(mask, embeds);

  // Position bias and mask together, once for all blocks: [B, heads, L, L]. The fused path adds a
  // detached copy and sends the gradient to the position bias itself (ScoreBias).
  const torch::Tensor additive =
      is_decoder_ ? causal_padding_mask(self_mask, dtype) : padding_mask(self_mask, dtype);
  const torch::Tensor position = blocks_.front()->self_attention()->compute_bias(length, length);
  ScoreBias self_bias;
  if (path == AttentionPath::Fused) {
    // Cast first: the mask holds only 0 and the dtype's lowest value, so this is the rounding of
    // position + mask without an fp32 [B, heads, L, L] temporary.
    self_bias.added = position.detach().to(dtype) + additive;
    self_bias.position = position;
  } else {
    self_bias.added = position + additive;
    if (self_bias.added.scalar_type() != dtype) self_bias.added = self_bias.added.to(dtype);
  }
  torch::Tensor cross_mask;
  if (is_decoder_) cross_mask = padding_mask(ones_if_undefined(memory_mask, memory), dtype);

  torch::Tensor hidden = embeddings_dropout_.apply(embeds, keys, is_training());
  const bool checkpointing = config_.activation_checkpointing && is_training() && torch::GradMode::is_enabled();
  for (Block& b : blocks_) {
    if (checkpointing) {
      // The keys travel with the function: the recomputation draws the same per-sample masks.
      BlockFunction fn = [impl = b.ptr(), keys](const std::vector<torch::Tensor>& in) {
        return impl->forward(in[0], ScoreBias{in[1], in[2]}, in[3], in[4], keys);
      };
      // Undefined entries (the plain path's position, the encoder's memory) stay undefined.
      const std::vector<torch::Tensor> inputs = {hidden, self_bias.added, self_bias.position, memory, cross_mask};
      // Dropout masks are functions of (keys, site, coordinates): no RNG state to replay.
      hidden = checkpoint(fn, inputs);
    } else {
      hidden = b->forward(hidden, self_bias, memory, cross_mask, keys);
    }
  }
  return final_dropout_.apply(final_layer_norm(hidden), keys, is_training());
}

void StackImpl::start_decoding(DecoderCache& cache, const torch::Tensor& memory, const torch::Tensor& memory_mask) {
  const size_t layers = blocks_.size();
  cache.self_k.assign(layers, {});
  cache.self_v.assign(layers, {});
  cache.self_k_store.assign(layers, {});
  cache.self_v_store.assign(layers, {});
  cache.cross_k.clear();
  cache.cross_v.clear();
  for (Block& b : blocks_) {
    auto [k, v] = b->cross_keys_values(memory);
    cache.cross_k.push_back(k);
    cache.cross_v.push_back(v);
  }
  const torch::ScalarType dtype = memory.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  cache.memory_bias = padding_mask(ones_if_undefined(memory_mask, memory), dtype);
  cache.length = 0;
}

torch::Tensor StackImpl::forward_step(const torch::Tensor& embeds, DecoderCache& cache) {
  // The decoder's causal position bias of the query at position t over keys 0..t: row t of the
  // full path's bias, in the same score dtype (its mask adds exactly 0 to those keys).
  const torch::ScalarType dtype = cache.memory_bias.scalar_type();
  torch::Tensor self_bias = blocks_.front()->self_attention()->compute_bias_row(cache.length, cache.length + 1);
  if (self_bias.scalar_type() != dtype) self_bias = self_bias.to(dtype);
  torch::Tensor hidden = embeds;
  for (size_t i = 0; i < blocks_.size(); ++i) hidden = blocks_[i]->forward_step(hidden, self_bias, cache, i);
  ++cache.length;
  return final_layer_norm(hidden);
}

}  // namespace ankh::model
