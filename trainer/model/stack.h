// A stack of T5 blocks (Hugging Face's T5Stack without its embedding alias): the relative
// position bias computed once by the first block's table and shared by all blocks, the masks,
// the blocks (optionally checkpointed), the final RMSNorm; dropout on the embeddings and after the
// final norm.
#pragma once

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include "trainer/model/blocks.h"
#include "trainer/model/model_config.h"
#include "trainer/model/sample_dropout.h"

namespace ankh::model {

class StackImpl : public torch::nn::Module {
 public:
  StackImpl(const ModelConfig& config, bool is_decoder);

  // embeds [B, L, d] (already looked up), mask [B, L] (1 real, 0 padding). The decoder also takes
  // the encoder's output `memory` [B, Le, d] and its mask [B, Le]. keys: the micro-batch's dropout
  // keys, needed in training when dropout > 0 (T5Model supplies them). Returns [B, L, d].
  torch::Tensor forward(const torch::Tensor& embeds, const torch::Tensor& mask,
                        const torch::Tensor& memory = {}, const torch::Tensor& memory_mask = {},
                        const DropoutKeys& keys = {});

  // Incremental decoding (decoder stack, eval; decoder_cache.h). start_decoding fills the cache's
  // cross-attention keys/values and encoder mask from memory [B, Le, d] and memory_mask [B, Le]
  // (undefined: all real) and empties its self-attention caches; forward_step takes the embeds
  // [N, 1, d] of the tokens at position cache.length, advances the cache, and returns [N, 1, d].
  void start_decoding(DecoderCache& cache, const torch::Tensor& memory, const torch::Tensor& memory_mask);
  torch::Tensor forward_step(const torch::Tensor& embeds, DecoderCache& cache);

  torch::nn::ModuleList block;
  RMSNorm final_layer_norm{nullptr};

 private:
  ModelConfig config_;
  bool is_decoder_;
  std::vector<Block> blocks_;
  DropoutSite embeddings_dropout_, final_dropout_;
};
TORCH_MODULE(Stack);

}  // namespace ankh::model
