// Configuration of checkpointing (`checkpoint:` section).
#pragma once

#include <cstdint>
#include <string>

#include "core/config_fields.h"
#include "core/error.h"

namespace ankh::checkpoints {

struct CheckpointConfig {
  int64_t every_steps = 1000;   // 0: never by step count
  double every_minutes = 30;    // 0: never by time
  int64_t keep_last = 3;        // newest checkpoints kept
  int64_t keep_every = 0;       // also keep every N-th step forever (0: none)
  std::string resume = "auto";  // auto | none | path to a step directory
  bool background = true;       // write files on a background thread (CheckpointWriter::Options)

  void visit(core::FieldVisitor& v);
  void validate(core::IssueList& issues) const;
};

}  // namespace ankh::checkpoints
