// Learning-rate schedules: linear warmup from 0 to optim.lr over warmup_steps, then
//   constant      lr
//   inverse_sqrt  lr * sqrt(max(1, warmup) / step)                  (T5's rsqrt decay)
//   linear        lr * (m + (1 - m) * (1 - x))                      x = (step - warmup) / (max_steps - warmup)
//   cosine        lr * (m + (1 - m) * (1 + cos(pi x)) / 2)           m = min_lr_ratio, x clamped to [0, 1]
// Steps are 1-based: lr(1) is the rate of the first update (lr/warmup, never 0), lr(warmup) is
// the peak. The training loop passes the number of the optimizer step it is about to take.
#pragma once

#include <cstdint>

#include "core/error.h"
#include "trainer/optim/optim_config.h"

namespace ankh::optim {

class LrSchedule {
 public:
  // Throws core::ConfigError when validate_schedule finds a problem.
  LrSchedule(const OptimConfig& config, int64_t max_steps);

  // The learning rate of update number `step` (1-based; steps past max_steps keep the final rate,
  // step <= 0 gives the rate of step 1).
  double lr(int64_t step) const;
  double peak() const { return peak_; }

 private:
  Schedule kind_;
  double peak_, min_ratio_;
  int64_t warmup_, max_steps_;
};

// Checks that span `optim` and `train` (for RunConfig::validate): linear and cosine decay need
// warmup_steps < train.max_steps.
void validate_schedule(const OptimConfig& config, int64_t max_steps, core::IssueList& issues);

}  // namespace ankh::optim
