// The pre-training loss of one micro-batch, as SUMS over its target tokens: the trainer divides
// by the token count of the whole global batch (docs/architecture.md, "Global sample order"), so that N ranks x b sequences give
// the same loss and gradients as 1 rank x N*b.
#pragma once

#include <torch/types.h>

namespace ankh::model {

struct LossTerms {
  torch::Tensor loss_sum;          // cross-entropy summed over labels != -100 (differentiable, fp32)
  torch::Tensor residue_loss_sum;  // the same over positions whose label is an amino acid (detached)
  torch::Tensor residue_count;     // int64: positions whose label is an amino acid
  torch::Tensor residue_correct;   // int64: of those, argmax(logits) == label
};

// logits [B, L, vocab] (any float dtype: the loss is taken in fp32, or float64 for float64 logits), labels [B, L] int64 with
// data::kIgnoreLabel at padding. Every result is a scalar tensor on the logits' device (no sync).
LossTerms loss_terms(const torch::Tensor& logits, const torch::Tensor& labels);

}  // namespace ankh::model
