#include "trainer/model/loss.h"

#include "core/error.h"
#include "data/vocab.h"

namespace ankh::model {

namespace {

// Both overloads: `tasks` undefined for the plain one.
LossTerms compute(const torch::Tensor& logits, const torch::Tensor& labels, const torch::Tensor* tasks,
                  int64_t num_tasks) {
  if (logits.dim() != 3 || labels.dim() != 2 || logits.size(0) != labels.size(0) || logits.size(1) != labels.size(1))
    throw core::InputError("logits " + c10::str(logits.sizes()) + " do not match labels " + c10::str(labels.sizes()),
                           "model::loss_terms", "logits are [B, L, vocab], labels [B, L]");
  if (tasks && (!tasks->defined() || tasks->dim() != 1 || tasks->size(0) != labels.size(0) || num_tasks < 1))
    throw core::InputError("tasks " + (tasks->defined() ? c10::str(tasks->sizes()) : std::string("(none)")) +
                               " do not match labels " + c10::str(labels.sizes()) + " for " +
                               std::to_string(num_tasks) + " task(s)",
                           "model::loss_terms", "tasks are [B], one index in [0, num_tasks) per sample");
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
  const torch::Tensor residue_losses = per_token.detach().mul(residue);
  const torch::Tensor correct = flat_logits.argmax(-1).eq(flat_labels).logical_and(residue);
  terms.residue_loss_sum = residue_losses.sum();
  terms.residue_count = residue.sum();
  terms.residue_correct = correct.sum();
  if (!tasks) return terms;

  // Per-sample sums [B, kNumTaskSums] in float64, then summed per task through a one-hot [T, B]
  // matrix: a plain reduction, deterministic on GPUs where index_add_ (atomics) is not, and
  // cheap (B and T are small). A task index outside [0, T) matches no row and is not counted.
  const int64_t rows = labels.size(0);
  const auto f64 = [&](const torch::Tensor& t) { return t.reshape({rows, -1}).to(torch::kDouble).sum(1); };
  const torch::Tensor per_sample = torch::stack(
      {f64(per_token.detach()), f64(flat_labels.ne(data::kIgnoreLabel)), f64(residue_losses), f64(residue), f64(correct)},
      1);
  const torch::Tensor task_of = tasks->to(per_sample.device(), torch::kLong);
  const torch::Tensor one_hot =
      task_of.unsqueeze(0).eq(torch::arange(num_tasks, task_of.options()).unsqueeze(1)).to(torch::kDouble);
  terms.task_sums = one_hot.unsqueeze(2).mul(per_sample.unsqueeze(0)).sum(1);  // [T, B, 5] -> [T, 5]
  return terms;
}

}  // namespace

LossTerms loss_terms(const torch::Tensor& logits, const torch::Tensor& labels) {
  return compute(logits, labels, nullptr, 0);
}

LossTerms loss_terms(const torch::Tensor& logits, const torch::Tensor& labels, const torch::Tensor& tasks,
                     int64_t num_tasks) {
  return compute(logits, labels, &tasks, num_tasks);
}

}  // namespace ankh::model
