#include "data/split.h"

#include "core/error.h"

namespace ankh::data {

Split parse_split(std::string_view name) {
  if (name == "train") return Split::Train;
  if (name == "valid") return Split::Valid;
  throw core::UsageError("unknown split '" + std::string(name) + "'", "", "use train or valid");
}

}  // namespace ankh::data
