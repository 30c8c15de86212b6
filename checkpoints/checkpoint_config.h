// Configuration of checkpointing (`checkpoint:` section).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/choices.h"
#include "core/config_fields.h"
#include "core/error.h"

namespace ankh::checkpoints {

// Where a run starts from (`checkpoint.resume`): auto, the newest committed checkpoint of run.dir
// (none yet: a fresh start); none, a fresh start; or a named checkpoint or run directory.
struct ResumeFrom {
  enum class Mode { Auto, None, Path };
  Mode mode = Mode::Auto;
  std::filesystem::path path;  // Mode::Path only

  static const core::Choices<Mode>& modes();  // auto | none (anything else is a path)
  static ResumeFrom parse(const std::string& text);
  std::string text() const;
};

struct CheckpointConfig {
  int64_t every_steps = 1000;   // 0: never by step count
  double every_minutes = 30;    // 0: never by time
  int64_t keep_last = 3;        // newest checkpoints kept
  int64_t keep_every = 0;       // also keep every N-th step forever (0: none)
  ResumeFrom resume;
  bool background = true;       // write files on a background thread (CheckpointWriter::Options)

  void visit(core::FieldVisitor& v);
  void validate(core::IssueList& issues) const;
};

}  // namespace ankh::checkpoints
