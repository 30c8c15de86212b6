// The Ankh encoder–decoder: T5 v1.1 exactly as Hugging Face's T5ForConditionalGeneration computes
// it (docs/architecture.md, "Model semantics"). named_parameters() are Hugging Face's names:
//   shared.weight
//   encoder.block.N.layer.0.SelfAttention.{q,k,v,o}.weight
//   encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight   (first block only)
//   encoder.block.N.layer.0.layer_norm.weight
//   encoder.block.N.layer.1.DenseReluDense.{wi_0,wi_1,wo}.weight           (relu: {wi,wo})
//   encoder.block.N.layer.1.layer_norm.weight, encoder.final_layer_norm.weight
//   decoder.block.N.layer.{0: SelfAttention, 1: EncDecAttention, 2: DenseReluDense}..., decoder.final_layer_norm.weight
//   lm_head.weight                                                         (untied only)
// HF's encoder.embed_tokens / decoder.embed_tokens are aliases of shared.weight and not listed.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "data/batch.h"
#include "trainer/model/model_config.h"
#include "trainer/model/stack.h"

namespace ankh::model {

class T5ModelImpl : public torch::nn::Module {
 public:
  explicit T5ModelImpl(const ModelConfig& config);

  // Mesh TensorFlow initialisation (docs/architecture.md), deterministic: every parameter is drawn from its
  // own generator seeded by (seed, parameter name), on the CPU, then copied to the parameter's
  // device, so the result depends neither on the device nor on the order of parameters.
  void init_weights(uint64_t seed);

  // input_ids [B, Le] int64, attention_mask [B, Le] (1 real, 0 padding; undefined: all real).
  // Returns the encoder's last hidden state [B, Le, d_model].
  torch::Tensor encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask);

  // Decoder logits [B, Ld, vocab] from decoder_input_ids [B, Ld] (starting with <pad>), its mask,
  // the encoder's hidden state and the encoder's mask (for cross-attention).
  torch::Tensor decode(const torch::Tensor& decoder_input_ids, const torch::Tensor& decoder_attention_mask,
                       const torch::Tensor& encoder_hidden, const torch::Tensor& attention_mask);

  // encode + decode of one micro-batch (its tensors must already be on the model's device).
  torch::Tensor forward(const data::Batch& batch);

  const ModelConfig& config() const { return config_; }

  torch::nn::Embedding shared{nullptr};
  Stack encoder{nullptr}, decoder{nullptr};
  torch::nn::Linear lm_head{nullptr};  // null when config().tie_embeddings

 private:
  ModelConfig config_;
};
TORCH_MODULE(T5Model);

// Standard deviation of the initial values of the parameter called `name` (HF naming), as
// init_weights draws them; 0 for RMSNorm weights (initialised to 1). Throws for unknown names.
double init_std(const ModelConfig& config, const std::string& name);

}  // namespace ankh::model
