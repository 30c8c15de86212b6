// Optimizer and learning-rate schedule (`optim:` section). See docs/optim.md.
#pragma once

#include <cstdint>
#include <string>

#include "core/choices.h"
#include "core/config_fields.h"
#include "core/error.h"

namespace ankh::optim {

enum class OptimizerKind { Adafactor, AdamW };
// After the linear warmup: constant, lr*sqrt(warmup/step), or linear/cosine decay to max_steps.
enum class Schedule { Constant, InverseSqrt, Linear, Cosine };
const core::Choices<OptimizerKind>& optimizer_kinds();  // adafactor | adamw
const core::Choices<Schedule>& schedules();              // constant | inverse_sqrt | linear | cosine
inline const char* name_of(OptimizerKind k) { return optimizer_kinds().name(k); }
inline const char* name_of(Schedule s) { return schedules().name(s); }

struct OptimConfig {
  OptimizerKind name = OptimizerKind::Adafactor;
  double lr = 1e-3;                      // peak learning rate
  Schedule schedule = Schedule::InverseSqrt;
  int64_t warmup_steps = 1000;
  double min_lr_ratio = 0.0;             // linear/cosine decay floor, as a fraction of lr
  double weight_decay = 0.0;
  double clip_norm = 1.0;                // global gradient norm clip (0: off)
  // AdamW
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  // Adafactor (Shazeer & Stern 2018, as T5 and Ankh used it). Its momentum has its own key because
  // T5/Ankh ran Adafactor WITHOUT a first moment, while AdamW wants beta1 = 0.9.
  double adafactor_beta1 = 0.0;          // 0: no first moment (saves one parameter-sized buffer)
  double adafactor_decay = -0.8;
  double adafactor_clip_threshold = 1.0;
  bool adafactor_relative_step = false;
  bool adafactor_scale_parameter = false;
  double adafactor_eps1 = 1e-30;
  double adafactor_eps2 = 1e-3;
  bool adafactor_fused = true;           // the factored step by ankh's CUDA kernels where they apply

  void visit(core::FieldVisitor& v);
  void validate(core::IssueList& issues) const;
};

}  // namespace ankh::optim
