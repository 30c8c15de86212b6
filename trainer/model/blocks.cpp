#include "trainer/model/blocks.h"

namespace ankh::model {

namespace {

AttentionOptions attention_options(const ModelConfig& c, bool bidirectional, bool relative_bias,
                                   uint32_t weights_site) {
  AttentionOptions o;
  o.d_model = c.d_model;
  o.num_heads = c.num_heads;
  o.d_kv = c.d_kv;
  o.relative_bias = relative_bias;
  o.bidirectional = bidirectional;
  o.num_buckets = c.relative_buckets;
  o.max_distance = c.relative_max_distance;
  o.dropout = {c.dropout, weights_site};
  o.kernel = c.attention;
  o.fuse_projections = c.fuse_projections;
  return o;
}

torch::Tensor residual(const torch::nn::Module& m, const torch::Tensor& hidden, const torch::Tensor& update,
                       const DropoutSite& dropout, const DropoutKeys& keys) {
  return hidden + dropout.apply(update, keys, m.is_training());
}

}  // namespace

SelfAttentionLayerImpl::SelfAttentionLayerImpl(const ModelConfig& config, bool is_decoder, int64_t layer)
    : dropout_{config.dropout, dropout_site(is_decoder, layer, DropoutPoint::SelfAttentionOutput)} {
  const uint32_t weights_site = dropout_site(is_decoder, layer, DropoutPoint::SelfAttentionWeights);
  SelfAttention = register_module(
      "SelfAttention", Attention(attention_options(config, !is_decoder, /*relative_bias=*/layer == 0, weights_site)));
  layer_norm = register_module("layer_norm", RMSNorm(config.d_model, config.layer_norm_eps, config.fused_norm));
}

torch::Tensor SelfAttentionLayerImpl::forward(const torch::Tensor& hidden, const ScoreBias& bias,
                                              const DropoutKeys& keys) {
  return residual(*this, hidden, SelfAttention(layer_norm(hidden), torch::Tensor(), bias, keys), dropout_, keys);
}

CrossAttentionLayerImpl::CrossAttentionLayerImpl(const ModelConfig& config, int64_t layer)
    : dropout_{config.dropout, dropout_site(/*decoder=*/true, layer, DropoutPoint::CrossAttentionOutput)} {
  // Cross-attention has no relative position bias: only the padding mask of the encoder.
  const uint32_t weights_site = dropout_site(/*decoder=*/true, layer, DropoutPoint::CrossAttentionWeights);
  EncDecAttention = register_module("EncDecAttention", Attention(attention_options(config, true, false, weights_site)));
  layer_norm = register_module("layer_norm", RMSNorm(config.d_model, config.layer_norm_eps, config.fused_norm));
}

torch::Tensor CrossAttentionLayerImpl::forward(const torch::Tensor& hidden, const torch::Tensor& memory,
                                               const torch::Tensor& mask, const DropoutKeys& keys) {
  return residual(*this, hidden, EncDecAttention(layer_norm(hidden), memory, ScoreBias{mask, {}}, keys), dropout_,
                  keys);
}

FeedForwardLayerImpl::FeedForwardLayerImpl(const ModelConfig& config, bool is_decoder, int64_t layer)
    : dropout_{config.dropout, dropout_site(is_decoder, layer, DropoutPoint::FeedForwardOutput)} {
  const DropoutSite inner{config.dropout, dropout_site(is_decoder, layer, DropoutPoint::FeedForwardInner)};
  DenseReluDense =
      register_module("DenseReluDense", FeedForward(config, inner));
  layer_norm = register_module("layer_norm", RMSNorm(config.d_model, config.layer_norm_eps, config.fused_norm));
}

torch::Tensor FeedForwardLayerImpl::forward(const torch::Tensor& hidden, const DropoutKeys& keys) {
  return residual(*this, hidden, DenseReluDense(layer_norm(hidden), keys), dropout_, keys);
}

BlockImpl::BlockImpl(const ModelConfig& config, bool is_decoder, int64_t index) {
  layer = register_module("layer", torch::nn::ModuleList());
  self_attention_ = SelfAttentionLayer(config, is_decoder, index);
  layer->push_back(self_attention_);
  if (is_decoder) {
    cross_attention_ = CrossAttentionLayer(config, index);
    layer->push_back(cross_attention_);
  }
  feed_forward_ = FeedForwardLayer(config, is_decoder, index);
  layer->push_back(feed_forward_);
}

torch::Tensor BlockImpl::forward(const torch::Tensor& hidden, const ScoreBias& self_bias,
                                 const torch::Tensor& memory, const torch::Tensor& memory_mask,
                                 const DropoutKeys& keys) {
  torch::Tensor h = self_attention_(hidden, self_bias, keys);
  if (cross_attention_) h = cross_attention_(h, memory, memory_mask, keys);
  return feed_forward_(h, keys);
}

std::pair<torch::Tensor, torch::Tensor> BlockImpl::cross_keys_values(const torch::Tensor& memory) {
  Attention a = cross_attention_->EncDecAttention;
  auto [key, value] = a->project_memory(memory);
  return {a->heads(key), a->heads(value)};
}

torch::Tensor BlockImpl::forward_step(const torch::Tensor& hidden, const torch::Tensor& self_bias,
                                      DecoderCache& cache, size_t layer) {
  // Self-attention over positions 0..t: this step's key/value joins the cache.
  Attention self = self_attention_->SelfAttention;
  const torch::Tensor x = self_attention_->layer_norm(hidden);
  const auto [q, k, v] = self->project(x, torch::Tensor());
  const auto [keys, values] = append_self(cache, layer, self->heads(k), self->heads(v));
  torch::Tensor h = hidden + self->merge(AttentionImpl::attend(self->heads(q), keys, values, self_bias));

  // Cross-attention per input: the queries of input b's rows ([N, heads, d_kv] -> [B, heads, G, d_kv])
  // meet b's keys once; each row then reads its slot back.
  Attention cross = cross_attention_->EncDecAttention;
  const torch::Tensor query = cross->heads(cross->q(cross_attention_->layer_norm(h))).squeeze(2);  // [N, heads, d_kv]
  const int64_t inputs = cache.group_index.size(0), groups = cache.group_index.size(1);
  const torch::Tensor grouped =
      query.index_select(0, cache.group_index.flatten()).view({inputs, groups, query.size(1), query.size(2)}).transpose(1, 2);
  const torch::Tensor context = AttentionImpl::attend(grouped, cache.cross_k[layer], cache.cross_v[layer],
                                                        cache.memory_bias);  // [B, heads, G, d_kv]
  const torch::Tensor per_row = context.transpose(1, 2)
                                    .reshape({inputs * groups, query.size(1), query.size(2)})
                                    .index_select(0, cache.row_slot)
                                    .unsqueeze(2);  // [N, heads, 1, d_kv]
  h = h + cross->merge(per_row);
  return feed_forward_(h, DropoutKeys{});
}

}  // namespace ankh::model
