// Additive attention masks, as Hugging Face T5 builds them: 0 where a key may be attended, the
// most negative finite value of the score dtype where it may not (finite, so that a row with
// every key masked still gives a defined softmax instead of NaN).
#pragma once

#include <torch/types.h>

namespace ankh::model {

// Most negative finite value of a floating dtype (torch.finfo(dtype).min).
double lowest_value(torch::ScalarType dtype);

// attention_mask [B, Lk] (1 real, 0 padding) -> [B, 1, 1, Lk] additive mask of `dtype`.
torch::Tensor padding_mask(const torch::Tensor& attention_mask, torch::ScalarType dtype);

// decoder_attention_mask [B, L] -> [B, 1, L, L] additive mask of `dtype`: query i may attend key j
// when j <= i and j is a real token.
torch::Tensor causal_padding_mask(const torch::Tensor& decoder_attention_mask, torch::ScalarType dtype);

}  // namespace ankh::model
