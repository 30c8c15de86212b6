// The two splits of a dataset. Which split a record belongs to is decided once, by a hash of its
// id at preprocessing time (so adding input files never moves a sequence across the split).
#pragma once

#include "core/choices.h"

namespace ankh::data {

enum class Split { Train, Valid };

const core::Choices<Split>& splits();  // train | valid
inline const char* name_of(Split s) { return splits().name(s); }

}  // namespace ankh::data
