// Examples -> one padded micro-batch (data::Batch) of int64 tensors.
#pragma once

#include <cstddef>

#include "data/batch.h"
#include "data/objectives/objective.h"

namespace ankh::data {

// input_ids padded with <pad>; decoder_input_ids = <pad> (the start token) then the targets
// shifted right; labels = targets with kIgnoreLabel at padding; attention masks 1 at real
// tokens. Sets target_tokens (labels that count); the caller sets the step bookkeeping.
Batch collate(const Example* examples, std::size_t count);

}  // namespace ankh::data
