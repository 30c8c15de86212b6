#include "checkpoints/checkpoint_config.h"

namespace ankh::checkpoints {

using core::Bounds;

const core::Choices<ResumeFrom::Mode>& ResumeFrom::modes() {
  static const core::Choices<Mode> table{{Mode::Auto, "auto"}, {Mode::None, "none"}};
  return table;
}

ResumeFrom ResumeFrom::parse(const std::string& text) {
  if (const auto mode = modes().parse(text)) return {*mode, {}};
  return {Mode::Path, text};
}

std::string ResumeFrom::text() const { return mode == Mode::Path ? path.string() : modes().name(mode); }

void CheckpointConfig::visit(core::FieldVisitor& v) {
  v.section("checkpoint", "saving and resuming");
  v.field("every_steps", every_steps, Bounds::at_least(0), "save every N steps (0: not by steps)");
  v.field("every_minutes", every_minutes, Bounds::at_least(0), "save every N minutes of training (0: not by time)");
  v.field("keep_last", keep_last, Bounds::at_least(1), "number of newest checkpoints to keep");
  v.field("keep_every", keep_every, Bounds::at_least(0), "also keep every checkpoint whose step is a multiple of N (0: none)");
  std::string resume_text = resume.text();
  v.field("resume", resume_text,
          "auto: newest committed checkpoint of run.dir; none: start fresh; or a checkpoint or run directory");
  resume = ResumeFrom::parse(resume_text);
  v.field("background", background,
          "write checkpoint files on a background thread: training stalls only for the copy to CPU memory");
}

void CheckpointConfig::validate(core::IssueList& issues) const {
  if (resume.mode == ResumeFrom::Mode::Path && resume.path.empty())
    issues.add("checkpoint.resume", "", "must not be empty", "use auto, none or a path");
}

}  // namespace ankh::checkpoints
