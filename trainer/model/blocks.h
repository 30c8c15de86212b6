// One T5 block and its sub-layers, named as in Hugging Face so that parameter names map 1:1:
//   block.N.layer.0 = T5LayerSelfAttention  {SelfAttention, layer_norm}
//   block.N.layer.1 = T5LayerCrossAttention {EncDecAttention, layer_norm}   (decoder only)
//   block.N.layer.1|2 = T5LayerFF           {DenseReluDense, layer_norm}
// Each sub-layer is pre-norm with a residual connection: h + dropout(f(norm(h))). Every dropout
// is per sample (sample_dropout.h) at a site fixed here from (stack, block index, sub-layer, which
// dropout); forward() takes the micro-batch's dropout keys.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include "trainer/model/attention.h"
#include "trainer/model/decoder_cache.h"
#include "trainer/model/layers.h"
#include "trainer/model/model_config.h"

namespace ankh::model {

class SelfAttentionLayerImpl : public torch::nn::Module {
 public:
  // layer: the block's index in its stack (block 0 owns the relative position table).
  SelfAttentionLayerImpl(const ModelConfig& config, bool is_decoder, int64_t layer);
  torch::Tensor forward(const torch::Tensor& hidden, const ScoreBias& bias, const DropoutKeys& keys);

  Attention SelfAttention{nullptr};
  RMSNorm layer_norm{nullptr};

 private:
  DropoutSite dropout_;
};
TORCH_MODULE(SelfAttentionLayer);

class CrossAttentionLayerImpl : public torch::nn::Module {
 public:
  CrossAttentionLayerImpl(const ModelConfig& config, int64_t layer);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& memory, const torch::Tensor& mask,
                        const DropoutKeys& keys);

  Attention EncDecAttention{nullptr};
  RMSNorm layer_norm{nullptr};

 private:
  DropoutSite dropout_;
};
TORCH_MODULE(CrossAttentionLayer);

class FeedForwardLayerImpl : public torch::nn::Module {
 public:
  FeedForwardLayerImpl(const ModelConfig& config, bool is_decoder, int64_t layer);
  torch::Tensor forward(const torch::Tensor& hidden, const DropoutKeys& keys);

  FeedForward DenseReluDense{nullptr};
  RMSNorm layer_norm{nullptr};

 private:
  DropoutSite dropout_;
};
TORCH_MODULE(FeedForwardLayer);

class BlockImpl : public torch::nn::Module {
 public:
  // index: the block's position in its stack; block 0 owns the stack's relative position table,
  // and the index names the block's dropout sites.
  BlockImpl(const ModelConfig& config, bool is_decoder, int64_t index);

  // hidden [B, L, d]; self_bias: position bias + self-attention mask ([B, heads, L, L], made for
  // the stack's attention path); memory [B, Le, d] and memory_mask ([B, 1, 1, Le] additive) in
  // the decoder only; keys: the micro-batch's dropout keys (needed in training when dropout > 0).
  torch::Tensor forward(const torch::Tensor& hidden, const ScoreBias& self_bias,
                        const torch::Tensor& memory, const torch::Tensor& memory_mask, const DropoutKeys& keys = {});

  Attention self_attention() const { return self_attention_->SelfAttention; }

  // Incremental decoding (decoder blocks, eval): hidden [N, 1, d] of the tokens at position
  // cache.length; self_bias [1, heads, 1, length+1] the position bias of that query (no mask: the
  // keys are the past only). Appends this block's (`layer`) keys/values to the cache and attends
  // to each row's input through the cache's per-input cross keys/values. Returns [N, 1, d].
  torch::Tensor forward_step(const torch::Tensor& hidden, const torch::Tensor& self_bias, DecoderCache& cache,
                             size_t layer);
  // The cross-attention keys and values [B, heads, Le, d_kv] of this block for memory [B, Le, d].
  std::pair<torch::Tensor, torch::Tensor> cross_keys_values(const torch::Tensor& memory);

  torch::nn::ModuleList layer;

 private:
  SelfAttentionLayer self_attention_{nullptr};
  CrossAttentionLayer cross_attention_{nullptr};
  FeedForwardLayer feed_forward_{nullptr};
};
TORCH_MODULE(Block);

}  // namespace ankh::model
