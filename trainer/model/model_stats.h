// Analytic accounting of a model configuration, without building it: parameters (for `ankh info`
// and tests), training FLOPs per token (model FLOP utilisation in the trainer and benchmarks) and
// the training memory estimate. Formulas: docs/model.md.
#pragma once

#include <cstdint>
#include <string>

#include "data/data_config.h"
#include "trainer/model/model_config.h"

namespace ankh::model {

struct ParamCounts {
  int64_t total = 0;       // every trainable parameter, the shared embedding counted once
  int64_t encoder = 0;     // encoder blocks, its relative position table, its final norm
  int64_t decoder = 0;     // decoder blocks, its relative position table, its final norm
  int64_t embeddings = 0;  // shared input embedding (vocab x d_model)
  int64_t lm_head = 0;     // untied output projection (0 when tied)
};
ParamCounts count_parameters(const ModelConfig& config);

// The usual decoder length for an encoder input of `encoder_len` tokens (residues + </s>):
//   ankh: 2*round(p*R)+1 (sentinel + residue per masked residue, then </s>), R = encoder_len-1;
//   t5_span: n + s + 1 with n = round(p*R) noise tokens in s = max(1, round(n/mean_span)) spans;
//   full_reconstruction: R + 1.
int64_t typical_decoder_length(const data::ObjectiveConfig& objective, int64_t encoder_len);

// Matrix-multiply FLOPs of one forward pass over one sequence, by part.
struct ForwardFlops {
  double encoder = 0;    // projections, attention scores and mixing, feed-forward
  double decoder = 0;    // the same, plus cross-attention (its k, v over the encoder tokens)
  double lm_head = 0;
  double total() const { return encoder + decoder + lm_head; }
};
ForwardFlops forward_flops(const ModelConfig& config, int64_t encoder_len, int64_t decoder_len);

// Forward + backward FLOPs (3 x forward) per ENCODER token of a sequence with these lengths.
// Recomputation by activation checkpointing is not counted (model FLOPs, not hardware FLOPs).
double train_flops_per_token(const ModelConfig& config, int64_t encoder_len, int64_t decoder_len);

struct MemoryEstimate {
  double weights = 0;                // bytes: fp32 master weights
  double gradients = 0;              // bytes: fp32 gradients
  double optimizer_state = 0;        // bytes, as the optimizer reports them (optim::estimate_state_bytes)
  double activations_per_token = 0;  // bytes kept for backward, per encoder token
  double activation_bytes_per_element = 4;  // 2 under bf16 autocast, 4 in fp32

  double static_bytes() const { return weights + gradients + optimizer_state; }
  // Everything for a micro-batch of `encoder_tokens` encoder tokens (padding included).
  double total(int64_t encoder_tokens) const { return static_bytes() + activations_per_token * encoder_tokens; }
};
// Weights, gradients and activations; `optimizer_state_bytes` is the optimizer's own figure
// (optim::estimate_state_bytes: the optimizer is the one home of what its state holds).
// Activations follow config.precision (bf16 as on a GPU) and config.activation_checkpointing.
MemoryEstimate estimate_memory(const ModelConfig& config, int64_t encoder_len, int64_t decoder_len,
                               double optimizer_state_bytes);

}  // namespace ankh::model
