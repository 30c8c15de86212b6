// `ankh verify` of a Hugging Face directory (what `ankh export` writes, or a download):
// config.json against the tensors (every name and shape of the T5 layout it implies, the
// architecture ankh can load), every value finite, config.json's task_tokens well formed, and
// tokenizer.json against Ankh's ids and those task tokens. Every problem is reported, not only
// the first.
#pragma once

#include <filesystem>

#include "core/verify_report.h"

namespace ankh::weights {

core::VerifyReport verify_hf_export(const std::filesystem::path& dir);

}  // namespace ankh::weights
