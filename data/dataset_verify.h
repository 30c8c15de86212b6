// `ankh verify DATASET` and `data.verify: full`: every shard of a dataset directory read once,
// in parallel, against its manifest: the file's size and structure, the offsets (checksum,
// monotone, spanning /tokens), the tokens' checksum, every token a residue id, the residue
// composition. Every problem is reported, not only the first.
#pragma once

#include <filesystem>

#include "core/verify_report.h"

namespace ankh::data {

core::VerifyReport verify_dataset(const std::filesystem::path& dir, const core::VerifyOptions& options);

// InputError listing the report's problems, with the hint to rebuild; nothing when it has none.
void throw_problems(const core::VerifyReport& report);

}  // namespace ankh::data
