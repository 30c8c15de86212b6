#include "trainer/model/loss.h"

#include "core/error.h"
#include "data/vocab.h"

namespace ankh::model {

LossTerms loss_terms(const torch::Tensor& logits, const torch::Tensor& labels) {
  if (logits.dim() != 3 || labels.dim() != 2 || logits.size(0) != labels.size(0) || logits.size(1) != labels.size(1))
    throw core::InputError("logits " + c10::str(logits.sizes()) + " do not match labels " + c10::str(labels.sizes()),
                           "model::loss_terms", "logits are [B, L, vocab], labels [B, L]");
  const torch::Tensor flat_labels = labels.reshape({-1});
  // At least fp32 (bf16 logits under autocast); float64 stays float64 for gradient checks.
  torch::Tensor flat_logits = logits.reshape({-1, logits.size(-1)});
  if (flat_logits.scalar_type() != torch::kDouble) flat_logits = flat_logits.to(torch::kFloat);
  // Per-position losses (0 at ignored labels): one cross-entropy serves both sums.
  const torch::Tensor per_token = torch::nn::functional::cross_entropy(
      flat_logits, flat_labels,
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(data::kIgnoreLabel).reduction(torch::kNone));
  const torch::Tensor residue =
      flat_labels.ge(data::kFirstResidue).logical_and(flat_labels.lt(data::kFirstResidue + data::kNumResidues));

  LossTerms terms;
  terms.loss_sum = per_token.sum();
  const torch::NoGradGuard no_grad;
  // mul, not masked_select: masked_select would make the GPU wait for the CPU.
  terms.residue_loss_sum = per_token.detach().mul(residue).sum();
  terms.residue_count = residue.sum();
  terms.residue_correct = flat_logits.argmax(-1).eq(flat_labels).logical_and(residue).sum();
  return terms;
}

}  // namespace ankh::model
