// One T5 block and its sub-layers, named as in Hugging Face so that parameter names map 1:1:
//   block.N.layer.0 = T5LayerSelfAttention  {SelfAttention, layer_norm}
//   block.N.layer.1 = T5LayerCrossAttention {EncDecAttention, layer_norm}   (decoder only)
//   block.N.layer.1|2 = T5LayerFF           {DenseReluDense, layer_norm}
// Each sub-layer is pre-norm with a residual connection: h + dropout(f(norm(h))).
#pragma once

#include <torch/torch.h>

#include "trainer/model/attention.h"
#include "trainer/model/layers.h"
#include "trainer/model/model_config.h"

namespace ankh::model {

class SelfAttentionLayerImpl : public torch::nn::Module {
 public:
  SelfAttentionLayerImpl(const ModelConfig& config, bool is_decoder, bool relative_bias);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& bias);

  Attention SelfAttention{nullptr};
  RMSNorm layer_norm{nullptr};

 private:
  double dropout_;
};
TORCH_MODULE(SelfAttentionLayer);

class CrossAttentionLayerImpl : public torch::nn::Module {
 public:
  explicit CrossAttentionLayerImpl(const ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& memory, const torch::Tensor& mask);

  Attention EncDecAttention{nullptr};
  RMSNorm layer_norm{nullptr};

 private:
  double dropout_;
};
TORCH_MODULE(CrossAttentionLayer);

class FeedForwardLayerImpl : public torch::nn::Module {
 public:
  explicit FeedForwardLayerImpl(const ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden);

  FeedForward DenseReluDense{nullptr};
  RMSNorm layer_norm{nullptr};

 private:
  double dropout_;
};
TORCH_MODULE(FeedForwardLayer);

class BlockImpl : public torch::nn::Module {
 public:
  // relative_bias: this block owns the stack's relative position table (the first block).
  BlockImpl(const ModelConfig& config, bool is_decoder, bool relative_bias);

  // hidden [B, L, d]; self_bias: position bias + self-attention mask, [B, heads, L, L];
  // memory [B, Le, d] and memory_mask ([B, 1, 1, Le] additive) in the decoder only.
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& self_bias,
                        const torch::Tensor& memory, const torch::Tensor& memory_mask);

  Attention self_attention() const { return self_attention_->SelfAttention; }

  torch::nn::ModuleList layer;

 private:
  SelfAttentionLayer self_attention_{nullptr};
  CrossAttentionLayer cross_attention_{nullptr};
  FeedForwardLayer feed_forward_{nullptr};
};
TORCH_MODULE(Block);

}  // namespace ankh::model
