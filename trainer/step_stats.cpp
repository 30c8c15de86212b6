#include "trainer/step_stats.h"

#include <cmath>

#include <spdlog/fmt/fmt.h>

namespace ankh::trainer {

namespace {

double safe_div(double a, double b) { return b > 0 ? a / b : std::nan(""); }

}  // namespace

void Window::add(const StepStats& step, double step_seconds) {
  loss_sum += step[kLossSum];
  target_tokens += step[kTargetTokens];
  residue_loss_sum += step[kResidueLossSum];
  residue_count += step[kResidueCount];
  residue_correct += step[kResidueCorrect];
  encoder_tokens += step[kEncoderTokens];
  model_flops += step[kModelFlops];
  task_sums.resize(step.size() - kNumStats, 0.0);  // the same size every step of a run
  for (std::size_t i = 0; i < task_sums.size(); ++i) task_sums[i] += step[kNumStats + i];
  seconds += step_seconds;
  ++steps;
}

metrics::TrainRecord Window::record(double peak_flops, const std::vector<std::string>& task_kinds) const {
  const auto n = static_cast<double>(steps);
  metrics::TrainRecord r;
  r.loss = safe_div(loss_sum, target_tokens);
  r.residue_loss = safe_div(residue_loss_sum, residue_count);
  r.accuracy = safe_div(residue_correct, residue_count);
  r.tokens_per_s = safe_div(encoder_tokens, seconds);
  r.step_time_s = safe_div(seconds, n);
  r.data_wait_s = safe_div(data_wait, n);
  r.comm_wait_s = safe_div(comm_wait, n);
  r.mfu = safe_div(safe_div(model_flops, seconds), peak_flops);
  if (task_sums.size() == task_kinds.size() * model::kNumTaskSums && !task_kinds.empty())
    r.tasks = task_records(task_sums.data(), task_kinds);
  return r;
}

std::vector<metrics::TaskRecord> task_records(const double* sums, const std::vector<std::string>& kinds) {
  std::vector<metrics::TaskRecord> out;
  out.reserve(kinds.size());
  for (std::size_t t = 0; t < kinds.size(); ++t) {
    const double* s = sums + t * model::kNumTaskSums;
    metrics::TaskRecord r;
    r.kind = kinds[t];
    r.loss = safe_div(s[model::kTaskLossSum], s[model::kTaskTargetTokens]);
    r.residue_loss = safe_div(s[model::kTaskResidueLossSum], s[model::kTaskResidueCount]);
    r.accuracy = safe_div(s[model::kTaskResidueCorrect], s[model::kTaskResidueCount]);
    r.target_tokens = static_cast<int64_t>(s[model::kTaskTargetTokens]);
    r.residue_tokens = static_cast<int64_t>(s[model::kTaskResidueCount]);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::string> mixture_task_kinds(const data::ObjectiveConfig& objective) {
  std::vector<std::string> kinds;
  if (!objective.is_mixture()) return kinds;
  for (const auto& task : objective.tasks()) kinds.emplace_back(data::name_of(task.kind));
  return kinds;
}

std::string task_summary(const std::vector<metrics::TaskRecord>& tasks) {
  std::string out;
  for (std::size_t t = 0; t < tasks.size(); ++t)
    out += fmt::format("{}{} {:.2f}/{:.2f}", t == 0 ? " | " : " ", tasks[t].kind, tasks[t].loss, tasks[t].accuracy);
  return out;
}

}  // namespace ankh::trainer
