#include "trainer/model/blocks.h"

namespace ankh::model {

namespace {

AttentionOptions attention_options(const ModelConfig& c, bool bidirectional, bool relative_bias) {
  AttentionOptions o;
  o.d_model = c.d_model;
  o.num_heads = c.num_heads;
  o.d_kv = c.d_kv;
  o.relative_bias = relative_bias;
  o.bidirectional = bidirectional;
  o.num_buckets = c.relative_buckets;
  o.max_distance = c.relative_max_distance;
  o.dropout = c.dropout;
  o.kernel = c.attention;
  return o;
}

torch::Tensor residual(const torch::nn::Module& m, const torch::Tensor& hidden, const torch::Tensor& update,
                       double dropout) {
  if (m.is_training() && dropout > 0) return hidden + torch::dropout(update, dropout, /*train=*/true);
  return hidden + update;
}

}  // namespace

SelfAttentionLayerImpl::SelfAttentionLayerImpl(const ModelConfig& config, bool is_decoder, bool relative_bias)
    : dropout_(config.dropout) {
  SelfAttention = register_module("SelfAttention", Attention(attention_options(config, !is_decoder, relative_bias)));
  layer_norm = register_module("layer_norm", RMSNorm(config.d_model, config.layer_norm_eps));
}

torch::Tensor SelfAttentionLayerImpl::forward(const torch::Tensor& hidden, const torch::Tensor& bias) {
  return residual(*this, hidden, SelfAttention(layer_norm(hidden), torch::Tensor(), bias), dropout_);
}

CrossAttentionLayerImpl::CrossAttentionLayerImpl(const ModelConfig& config) : dropout_(config.dropout) {
  // Cross-attention has no relative position bias: only the padding mask of the encoder.
  EncDecAttention = register_module("EncDecAttention", Attention(attention_options(config, true, false)));
  layer_norm = register_module("layer_norm", RMSNorm(config.d_model, config.layer_norm_eps));
}

torch::Tensor CrossAttentionLayerImpl::forward(const torch::Tensor& hidden, const torch::Tensor& memory,
                                               const torch::Tensor& mask) {
  return residual(*this, hidden, EncDecAttention(layer_norm(hidden), memory, mask), dropout_);
}

FeedForwardLayerImpl::FeedForwardLayerImpl(const ModelConfig& config) : dropout_(config.dropout) {
  DenseReluDense = register_module(
      "DenseReluDense", FeedForward(config.d_model, config.d_ff, config.activation, config.dropout));
  layer_norm = register_module("layer_norm", RMSNorm(config.d_model, config.layer_norm_eps));
}

torch::Tensor FeedForwardLayerImpl::forward(const torch::Tensor& hidden) {
  return residual(*this, hidden, DenseReluDense(layer_norm(hidden)), dropout_);
}

BlockImpl::BlockImpl(const ModelConfig& config, bool is_decoder, bool relative_bias) {
  layer = register_module("layer", torch::nn::ModuleList());
  self_attention_ = SelfAttentionLayer(config, is_decoder, relative_bias);
  layer->push_back(self_attention_);
  if (is_decoder) {
    cross_attention_ = CrossAttentionLayer(config);
    layer->push_back(cross_attention_);
  }
  feed_forward_ = FeedForwardLayer(config);
  layer->push_back(feed_forward_);
}

torch::Tensor BlockImpl::forward(const torch::Tensor& hidden, const torch::Tensor& self_bias,
                                 const torch::Tensor& memory, const torch::Tensor& memory_mask) {
  torch::Tensor h = self_attention_(hidden, self_bias);
  if (cross_attention_) h = cross_attention_(h, memory, memory_mask);
  return feed_forward_(h);
}

}  // namespace ankh::model
