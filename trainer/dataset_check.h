// `data.verify: full`: rank 0 reads the whole dataset once before the first step, as
// `ankh verify` does, and logs how long it took; a problem stops the job with all of them listed.
// (`quick`, the default, is what Dataset::open and Dataset::tokens check anyway.)
#pragma once

#include <string>

namespace ankh::trainer {

void verify_dataset_whole(const std::string& dir);

}  // namespace ankh::trainer
