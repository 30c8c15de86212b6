// The statistics of one training step, summed over ranks by the step's one all-reduce, and the
// window of steps that one `train` metrics line averages.
#pragma once

#include <array>
#include <cstdint>

#include "trainer/metrics/records.h"

namespace ankh::trainer {

// Slots of the per-step all-reduce (float64: counts stay exact).
enum Stat : int64_t {
  kLossSum,
  kTargetTokens,
  kResidueLossSum,
  kResidueCount,
  kResidueCorrect,
  kEncoderTokens,
  kModelFlops,
  kStopFlag,    // ranks that caught a stop signal
  kTimeDue,     // rank 0: checkpoint.every_minutes elapsed
  kWriterDone,  // rank 0: the pending checkpoint's files are written
  kNumStats
};

// One step's summed statistics, on the host.
using StepStats = std::array<double, kNumStats>;

// Sums of the steps since the last metrics line.
struct Window {
  double loss_sum = 0, target_tokens = 0, residue_loss_sum = 0, residue_count = 0, residue_correct = 0;
  double encoder_tokens = 0, model_flops = 0, seconds = 0, data_wait = 0, comm_wait = 0;
  int64_t steps = 0;

  void add(const StepStats& step, double step_seconds);

  // The window's averages as a `train` record: losses per target token, accuracy, throughput,
  // times per step, and MFU against `peak_flops` for all ranks together. The caller fills in
  // step, epoch, tokens, lr, grad_norm, skipped_steps and memory. NaN where nothing was counted.
  metrics::TrainRecord record(double peak_flops) const;
};

}  // namespace ankh::trainer
