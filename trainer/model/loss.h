// The pre-training loss of one micro-batch, as SUMS over its target tokens: the trainer divides
// by the token count of the whole global batch (docs/architecture.md, "Global sample order"), so that N ranks x b sequences give
// the same loss and gradients as 1 rank x N*b.
#pragma once

#include <cstdint>

#include <torch/types.h>

namespace ankh::model {

// Columns of the per-task sums of an objective mixture (LossTerms::task_sums).
enum TaskSum : int64_t {
  kTaskLossSum,         // cross-entropy over every target token of the task's samples
  kTaskTargetTokens,    // labels != -100
  kTaskResidueLossSum,  // cross-entropy over the amino-acid targets
  kTaskResidueCount,    // amino-acid targets
  kTaskResidueCorrect,  // of those, argmax(logits) == label
  kNumTaskSums
};

struct LossTerms {
  torch::Tensor loss_sum;          // cross-entropy summed over labels != -100 (differentiable, fp32)
  torch::Tensor residue_loss_sum;  // the same over positions whose label is an amino acid (detached)
  torch::Tensor residue_count;     // int64: positions whose label is an amino acid
  torch::Tensor residue_correct;   // int64: of those, argmax(logits) == label
  // Only from the overload with tasks: [num_tasks, kNumTaskSums] float64 (detached), row t the
  // sums over the samples of task t. Summed in float64 from the per-token losses, so they add
  // up to loss_sum and residue_loss_sum (fp32 sums) to fp32 rounding, and to the counts exactly.
  torch::Tensor task_sums;
};

// logits [B, L, vocab] (any float dtype: the loss is taken in fp32, or float64 for float64 logits), labels [B, L] int64 with
// data::kIgnoreLabel at padding. Every result is a scalar tensor on the logits' device (no sync).
LossTerms loss_terms(const torch::Tensor& logits, const torch::Tensor& labels);

// The same, plus task_sums for an objective mixture: `tasks` [B] int64 holds each sample's index
// in the mixture (data::Batch::tasks, on any device), in [0, num_tasks). The scalar sums and
// their gradient are exactly those of the overload above; task_sums costs no sync either.
LossTerms loss_terms(const torch::Tensor& logits, const torch::Tensor& labels, const torch::Tensor& tasks,
                     int64_t num_tasks);

}  // namespace ankh::model
