// The two splits of a dataset. Which split a record belongs to is decided once, by a hash of its
// id at preprocessing time (so adding input files never moves a sequence across the split).
#pragma once

#include <string>
#include <string_view>

namespace ankh::data {

enum class Split { Train, Valid };

inline const char* split_name(Split s) { return s == Split::Train ? "train" : "valid"; }

// "train" / "valid"; UsageError otherwise (names the accepted values).
Split parse_split(std::string_view name);

}  // namespace ankh::data
