// One micro-batch as the model consumes it. Produced by the loader (data/), consumed by the
// trainer; every tensor is int64 on the CPU (the trainer moves it to the device).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace ankh::data {

struct Batch {
  torch::Tensor input_ids;               // [B, Le] encoder ids ending in </s>, padded with <pad>
  torch::Tensor attention_mask;          // [B, Le] 1 at real tokens, 0 at padding
  torch::Tensor decoder_input_ids;       // [B, Ld] <pad> (the start token) then targets shifted right
  torch::Tensor decoder_attention_mask;  // [B, Ld] 1 at real tokens, 0 at padding
  torch::Tensor labels;                  // [B, Ld] target ids; kIgnoreLabel (-100) at padding
  torch::Tensor tasks;                   // [B] each sample's task: its index in objective.mixture (0 when single)

  int64_t target_tokens = 0;         // labels that count in the loss, in this micro-batch
  int64_t global_target_tokens = 0;  // the same over the whole global batch (the loss divisor)
  int64_t step = 0;                  // global step this micro-batch belongs to
  int64_t micro_index = 0;           // which of this rank's micro-batches in the step
  int64_t micro_count = 1;           // micro-batches per step on this rank (accumulation)
  std::vector<int64_t> global_positions;  // position of each sample in the global order

  int64_t size() const { return input_ids.defined() ? input_ids.size(0) : 0; }
  bool last_micro() const { return micro_index + 1 == micro_count; }
};

}  // namespace ankh::data
