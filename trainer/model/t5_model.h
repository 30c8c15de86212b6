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
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include "trainer/model/decoder_cache.h"
#include "trainer/model/model_config.h"
#include "trainer/model/sample_dropout.h"
#include "trainer/model/stack.h"

namespace ankh::data {
struct Batch;
}  // namespace ankh::data

namespace ankh::model {

class T5ModelImpl : public torch::nn::Module {
 public:
  explicit T5ModelImpl(const ModelConfig& config);

  // Mesh TensorFlow initialisation (docs/architecture.md), deterministic: every parameter is drawn from its
  // own generator seeded by (seed, parameter name), on the CPU, then copied to the parameter's
  // device, so the result depends neither on the device nor on the order of parameters.
  void init_weights(uint64_t seed);

  // The run seed of the dropout masks (default 0): in training with dropout > 0, sample i of a
  // micro-batch is dropped out with the key hash(seed, batch.step, batch.global_positions[i])
  // (sample_dropout.h), so its masks do not depend on the rank, the micro-batch or the padding.
  void set_dropout_seed(uint64_t seed) { dropout_seed_ = seed; }
  uint64_t dropout_seed() const { return dropout_seed_; }

  // The dropout keys of a micro-batch at `step` whose rows are the samples at `positions` of the
  // global order (empty: rows 0 .. rows−1); no keys (and no hashing) in eval mode or without dropout.
  DropoutKeys dropout_keys(int64_t step, const std::vector<int64_t>& positions, int64_t rows,
                           const torch::Device& device) const;

  // input_ids [B, Le] int64, attention_mask [B, Le] (1 real, 0 padding; undefined: all real).
  // Returns the encoder's last hidden state [B, Le, d_model]. keys: the dropout keys (training
  // with dropout only; undefined: those of step 0 with rows as positions).
  torch::Tensor encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                       const DropoutKeys& keys = {});

  // Decoder logits [B, Ld, vocab] from decoder_input_ids [B, Ld] (starting with <pad>), its mask,
  // the encoder's hidden state and the encoder's mask (for cross-attention); keys as for encode.
  torch::Tensor decode(const torch::Tensor& decoder_input_ids, const torch::Tensor& decoder_attention_mask,
                       const torch::Tensor& encoder_hidden, const torch::Tensor& attention_mask,
                       const DropoutKeys& keys = {});

  // Incremental decoding (eval mode only; runs without autograd; docs/model.md, "Incremental
  // decoding"). encoder_hidden [B, Le, d] and attention_mask [B, Le] (undefined: all real) from
  // encode(); rows [N] int64 on the model's device: decoding row n continues input rows[n]
  // (several rows per input: samples/beams). The cross-attention keys/values are computed here,
  // once per input row, and shared by every step and every decoding row of that input.
  DecoderCache start_decoding(const torch::Tensor& encoder_hidden, const torch::Tensor& attention_mask,
                              const torch::Tensor& rows);
  // Feeds tokens [N] int64 (the first call: <pad>, the decoder start) at position cache.length,
  // appends to the cache and returns the logits [N, vocab] of the next token, in the dtype decode()
  // gives (the model's: fp32 for fp32 models, float64 for float64 ones, bf16 under CUDA autocast).
  // Equal to decode() of the whole prefix at its last position (fp32: within ~1e-6).
  torch::Tensor decode_step(DecoderCache& cache, const torch::Tensor& tokens);
  // Keeps decoding rows `keep` [M] (indices into the N rows, repeats allowed: beam search reorders
  // and duplicates rows; dropping finished rows shrinks N). rows and self caches follow.
  void reorder(DecoderCache& cache, const torch::Tensor& keep);

  // encode + decode of one micro-batch (its tensors must already be on the model's device); in
  // training, dropout keyed by (dropout seed, batch.step, batch.global_positions).
  torch::Tensor forward(const data::Batch& batch);

  const ModelConfig& config() const { return config_; }

  torch::nn::Embedding shared{nullptr};
  Stack encoder{nullptr}, decoder{nullptr};
  torch::nn::Linear lm_head{nullptr};  // null when config().tie_embeddings

 private:
  // lm_head, or with tied embeddings the shared matrix after the d_model^-0.5 rescale.
  torch::Tensor logits(const torch::Tensor& hidden);
  void require_eval(const char* what) const;

  // keys, or when they are needed but undefined, those of step 0 with rows as positions.
  DropoutKeys keys_or_default(const DropoutKeys& keys, const torch::Tensor& ids) const;

  ModelConfig config_;
  uint64_t dropout_seed_ = 0;
};
TORCH_MODULE(T5Model);

// Standard deviation of the initial values of the parameter called `name` (HF naming), as
// init_weights draws them; 0 for RMSNorm weights (initialised to 1). Throws for unknown names.
double init_std(const ModelConfig& config, const std::string& name);

}  // namespace ankh::model
