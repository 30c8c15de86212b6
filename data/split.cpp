#include "data/split.h"

namespace ankh::data {

const core::Choices<Split>& splits() {
  static const core::Choices<Split> table{{Split::Train, "train"}, {Split::Valid, "valid"}};
  return table;
}

}  // namespace ankh::data
