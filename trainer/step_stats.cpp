#include "trainer/step_stats.h"

#include <cmath>

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
  seconds += step_seconds;
  ++steps;
}

metrics::TrainRecord Window::record(double peak_flops) const {
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
  return r;
}

}  // namespace ankh::trainer
