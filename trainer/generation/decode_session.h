// One decoding pass of the model's decoder over a set of rows, token by token: every row decodes
// against one encoded input (`rows` maps decoding rows to encoder rows; several beams share an
// input), rows can be dropped, repeated or reordered between steps (beam search). Over the
// model's incremental decoder (model::DecoderCache, docs/model.md "Incremental decoding"): each
// step costs one token per row. `incremental = false` runs decode() over the whole prefix at
// every step instead (O(t^2); the reference the tests compare the cache with).
#pragma once

#include <torch/types.h>

#include "trainer/model/decoder_cache.h"
#include "trainer/model/model.h"

namespace ankh::generation {

class DecodeSession {
 public:
  // encoder_hidden [B, Le, d] and attention_mask [B, Le] of the encoded inputs; rows [N] int64.
  DecodeSession(model::T5Model& model, const torch::Tensor& encoder_hidden, const torch::Tensor& attention_mask,
                const torch::Tensor& rows, bool incremental = true);
  // tokens [N] int64 (the first call feeds <pad>, the decoder start) -> logits [N, vocab] float32 on the CPU.
  torch::Tensor step(const torch::Tensor& tokens);
  // Keeps rows `keep` [M] (indices into the current rows; repeats allowed), in that order.
  void reorder(const torch::Tensor& keep);

 private:
  model::T5Model model_;
  bool incremental_;
  model::DecoderCache cache_;
  torch::Tensor hidden_, mask_, rows_, history_;  // the full-prefix path
};

}  // namespace ankh::generation
