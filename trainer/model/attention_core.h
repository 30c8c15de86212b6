// The attention core of T5, softmax(q k^T + bias) v without a 1/sqrt(d_kv) scale, as one
// autograd node ("fused" attention, model.attention=fused).
//
// Autograd over the plain ops (attention.cpp's plain path) keeps Hugging Face's order: the score
// GEMM writes bf16, a cast widens it to fp32, the bias is added and the softmax taken in fp32,
// and a second cast narrows the weights for the value GEMM. Per encoder layer of ankh-base at
// 16 x 512 that is four element-wise passes over a 201 MB fp32 matrix forward, as many backward,
// an fp32 softmax output kept for backward and, because the bias [B, heads, L, L] is one tensor
// shared by every layer, its full-size gradient summed across the layers.
//
// This node computes the same function in the compute dtype of q (bf16 under autocast, fp32 or
// float64 otherwise): the bias is added to the GEMM's output in place, the softmax reads and
// writes that dtype with fp32 statistics (LibTorch's softmax accumulates bf16 in fp32; Hugging
// Face's bf16 T5 rounds scores + bias to bf16 before its fp32 softmax too), and only q, k, v and
// the weights are kept. Backward is written out: the softmax gradient in one kernel, and the
// gradient of the position bias summed over the batch in fp32 right here, so what crosses layers
// is [1, heads, Lq, Lk] fp32 instead of [B, heads, Lq, Lk]. In fp32 it is the plain path's
// arithmetic, so CPU training is unchanged to rounding (tests/unit/model_attention_core_test.cpp).
#pragma once

#include <torch/types.h>

namespace ankh::model {

// query [B, heads, Lq, d_kv]; key, value [B, heads, Lk, d_kv], all in one floating dtype.
// added: the additive term (position bias + mask), broadcastable to [B, heads, Lq, Lk], in that
//   dtype; it receives no gradient.
// position: what the bias gradient is for, or undefined: a tensor broadcastable to the scores
//   (the relative position bias, [1, heads, Lq, Lk]) whose values `added` already holds. Its
//   gradient is the scores' gradient summed over the broadcast dimensions, in position's dtype.
// Returns [B, heads, Lq, d_kv] in the compute dtype.
torch::Tensor fused_attention(const torch::Tensor& query, const torch::Tensor& key, const torch::Tensor& value,
                              const torch::Tensor& added, const torch::Tensor& position);

}  // namespace ankh::model
