#include "trainer/optim/optim_config.h"

namespace ankh::optim {

using core::Bounds;

const core::Choices<OptimizerKind>& optimizer_kinds() {
  static const core::Choices<OptimizerKind> table{{OptimizerKind::Adafactor, "adafactor"}, {OptimizerKind::AdamW, "adamw"}};
  return table;
}

const core::Choices<Schedule>& schedules() {
  static const core::Choices<Schedule> table{{Schedule::Constant, "constant"},
                                             {Schedule::InverseSqrt, "inverse_sqrt"},
                                             {Schedule::Linear, "linear"},
                                             {Schedule::Cosine, "cosine"}};
  return table;
}

void OptimConfig::visit(core::FieldVisitor& v) {
  v.section("optim", "optimizer and learning-rate schedule");
  core::choice(v, "name", name, optimizer_kinds(), "optimizer");
  v.field("lr", lr, Bounds::above(0), "peak learning rate (Adafactor with relative_step ignores it)");
  core::choice(v, "schedule", schedule, schedules(),
           "after linear warmup: constant, lr*sqrt(warmup/step), or linear/cosine decay to max_steps");
  v.field("warmup_steps", warmup_steps, Bounds::at_least(0), "steps of linear warmup from 0 (peak at this step)");
  v.field("min_lr_ratio", min_lr_ratio, Bounds::closed(0, 1), "floor of linear/cosine decay, as a fraction of lr");
  v.field("weight_decay", weight_decay, Bounds::at_least(0),
          "decoupled weight decay, p -= lr*wd*p (never on norms or 1-D parameters)");
  v.field("clip_norm", clip_norm, Bounds::at_least(0), "global gradient-norm clip (0: off)");
  v.field("beta1", beta1, Bounds::half_open(0, 1), "AdamW first-moment decay");
  v.field("beta2", beta2, Bounds::half_open(0, 1), "AdamW second-moment decay");
  v.field("eps", eps, Bounds::above(0), "AdamW epsilon");
  v.field("adafactor_beta1", adafactor_beta1, Bounds::half_open(0, 1),
          "Adafactor momentum (0: none, as T5 and Ankh)");
  v.field("adafactor_decay", adafactor_decay, Bounds::closed(-1, 0),
          "Adafactor second-moment decay exponent: beta2_t = 1 - t^decay");
  v.field("adafactor_clip_threshold", adafactor_clip_threshold, Bounds::above(0), "Adafactor update clipping (RMS)");
  v.field("adafactor_relative_step", adafactor_relative_step,
          "Adafactor's own step size min(1e-2, 1/sqrt(step)) instead of lr and the schedule");
  v.field("adafactor_scale_parameter", adafactor_scale_parameter,
          "multiply the step by max(eps2, RMS(parameter))");
  v.field("adafactor_eps1", adafactor_eps1, Bounds::above(0), "Adafactor regulariser of the squared gradient");
  v.field("adafactor_eps2", adafactor_eps2, Bounds::above(0), "Adafactor floor of the parameter scale");
  v.field("adafactor_fused", adafactor_fused,
          "Adafactor's factored step by ankh's CUDA kernels, three passes over the gradients (fp32 CUDA matrices "
          "without momentum or weight decay, in a build with nvcc and a CUDA LibTorch); else the stacked LibTorch ops");
}

void OptimConfig::validate(core::IssueList& issues) const {
  // Relative step sizes replace lr AND the schedule; a schedule left in place would be silently
  // ignored, so ask for the config to say what actually happens.
  if (name == OptimizerKind::Adafactor && adafactor_relative_step && (schedule != Schedule::Constant || warmup_steps != 0)) {
    issues.add("optim.adafactor_relative_step", "",
               "relative steps compute their own learning rate; optim.schedule and optim.warmup_steps would be ignored",
               "set optim.schedule=constant and optim.warmup_steps=0, or adafactor_relative_step=false");
  }
}

}  // namespace ankh::optim
