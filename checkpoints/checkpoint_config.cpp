#include "checkpoints/checkpoint_config.h"

namespace ankh::checkpoints {

using core::Bounds;

void CheckpointConfig::visit(core::FieldVisitor& v) {
  v.section("checkpoint", "saving and resuming");
  v.field("every_steps", every_steps, Bounds::at_least(0), "save every N steps (0: not by steps)");
  v.field("every_minutes", every_minutes, Bounds::at_least(0), "save every N minutes of training (0: not by time)");
  v.field("keep_last", keep_last, Bounds::at_least(1), "number of newest checkpoints to keep");
  v.field("keep_every", keep_every, Bounds::at_least(0), "also keep every checkpoint whose step is a multiple of N (0: none)");
  v.field("resume", resume, "auto: newest committed checkpoint of run.dir; none: start fresh; or a checkpoint directory");
  v.field("background", background,
          "write checkpoint files on a background thread: training stalls only for the copy to CPU memory");
}

void CheckpointConfig::validate(core::IssueList& issues) const {
  if (resume.empty()) issues.add("checkpoint.resume", "", "must not be empty", "use auto, none or a path");
}

}  // namespace ankh::checkpoints
