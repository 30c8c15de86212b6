// `ankh verify` of a checkpoint directory or of a run's checkpoints: the commit marker (format,
// step, file list) and every file it lists read whole against its recorded size and XXH64, files
// in parallel. Every problem is reported, not only the first (CheckpointReader::open, used to
// load, stops at the first).
#pragma once

#include <filesystem>

#include "core/verify_report.h"

namespace ankh::checkpoints {

// One step-N directory.
core::VerifyReport verify_checkpoint(const std::filesystem::path& dir, const core::VerifyOptions& options);
// Every step-N directory of RUN/checkpoints; interrupted saves (`.tmp`, `.deleting`) are notes.
core::VerifyReport verify_run_checkpoints(const std::filesystem::path& run_dir, const core::VerifyOptions& options);

}  // namespace ankh::checkpoints
