#include "trainer/optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace ankh::optim {

void validate_schedule(const OptimConfig& config, int64_t max_steps, core::IssueList& issues) {
  const bool decays = config.schedule == Schedule::Linear || config.schedule == Schedule::Cosine;
  if (decays && config.warmup_steps >= max_steps) {
    issues.add("optim.warmup_steps", "",
               std::string("a ") + name_of(config.schedule) + " decay needs warmup_steps (" + std::to_string(config.warmup_steps) +
                   ") below train.max_steps (" + std::to_string(max_steps) + ")",
               "lower optim.warmup_steps or use optim.schedule=constant");
  }
}

LrSchedule::LrSchedule(const OptimConfig& config, int64_t max_steps)
    : peak_(config.lr), min_ratio_(config.min_lr_ratio), warmup_(config.warmup_steps), max_steps_(max_steps) {
  core::IssueList issues;
  validate_schedule(config, max_steps, issues);
  issues.throw_if_any();
  kind_ = config.schedule;
}

double LrSchedule::lr(int64_t step) const {
  step = std::max<int64_t>(step, 1);
  if (step <= warmup_) return peak_ * static_cast<double>(step) / static_cast<double>(warmup_);
  switch (kind_) {
    case Schedule::Constant:
      return peak_;
    case Schedule::InverseSqrt:
      // max(1, warmup) keeps warmup 0 meaningful: lr at step 1, then lr/sqrt(step).
      return peak_ * std::sqrt(static_cast<double>(std::max<int64_t>(warmup_, 1)) / static_cast<double>(step));
    case Schedule::Linear:
    case Schedule::Cosine: {
      const double x = std::clamp(static_cast<double>(step - warmup_) / static_cast<double>(max_steps_ - warmup_), 0.0, 1.0);
      const double shape = kind_ == Schedule::Linear ? 1.0 - x : 0.5 * (1.0 + std::cos(M_PI * x));
      return peak_ * (min_ratio_ + (1.0 - min_ratio_) * shape);
    }
  }
  return peak_;  // unreachable
}

}  // namespace ankh::optim
