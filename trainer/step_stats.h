// The statistics of one training step, summed over ranks by the step's one all-reduce, and the
// window of steps that one `train` metrics line averages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/data_config.h"
#include "trainer/metrics/records.h"
#include "trainer/model/loss.h"

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

// One step's summed statistics, on the host: the kNumStats slots above, then, for an objective
// mixture only, model::kNumTaskSums sums per task in mixture order (task t's start at
// kNumStats + t * kNumTaskSums), so that a single objective's all-reduce keeps its size.
using StepStats = std::vector<double>;

// Sums of the steps since the last metrics line.
struct Window {
  double loss_sum = 0, target_tokens = 0, residue_loss_sum = 0, residue_count = 0, residue_correct = 0;
  double encoder_tokens = 0, model_flops = 0, seconds = 0, data_wait = 0, comm_wait = 0;
  std::vector<double> task_sums;  // mixtures: the per-task part of StepStats, summed
  int64_t steps = 0;

  void add(const StepStats& step, double step_seconds);

  // The window's averages as a `train` record: losses per target token, accuracy, throughput,
  // times per step, and MFU against `peak_flops` for all ranks together; for a mixture, the same
  // per task, named by `task_kinds` (mixture order). The caller fills in step, epoch, tokens, lr,
  // grad_norm, skipped_steps and memory. NaN where nothing was counted.
  metrics::TrainRecord record(double peak_flops, const std::vector<std::string>& task_kinds = {}) const;
};

// The per-task records of `sums` (model::kNumTaskSums per task, row after row), one per entry of
// `kinds`: loss per target token, residue loss and accuracy per amino-acid target, NaN where a
// task counted nothing. Shared by `train` (Window) and `valid` (evaluate) records.
std::vector<metrics::TaskRecord> task_records(const double* sums, const std::vector<std::string>& kinds);

// The kind of each task of a mixture, in mixture order; empty for a single objective (no
// per-task metrics then).
std::vector<std::string> mixture_task_kinds(const data::ObjectiveConfig& objective);

// " | ankh 2.91/0.41 full_reconstruction 2.70/0.35": each task's loss/accuracy for a console line,
// "" without tasks.
std::string task_summary(const std::vector<metrics::TaskRecord>& tasks);

}  // namespace ankh::trainer
