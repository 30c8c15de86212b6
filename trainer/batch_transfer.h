// Moving a micro-batch to the training device (the loader builds every batch on the CPU).
#pragma once

#include "data/batch.h"

namespace ankh::trainer {

// The batch with every tensor on `device`; the CPU batch itself when device is the CPU.
// Host-to-GPU copies are asynchronous from pinned memory when the loader pinned it.
inline data::Batch to_device(const data::Batch& batch, const torch::Device& device) {
  if (device.is_cpu()) return batch;
  data::Batch out = batch;
  const bool non_blocking = true;
  out.input_ids = batch.input_ids.to(device, non_blocking);
  out.attention_mask = batch.attention_mask.to(device, non_blocking);
  out.decoder_input_ids = batch.decoder_input_ids.to(device, non_blocking);
  out.decoder_attention_mask = batch.decoder_attention_mask.to(device, non_blocking);
  out.labels = batch.labels.to(device, non_blocking);
  if (batch.tasks.defined()) out.tasks = batch.tasks.to(device, non_blocking);
  return out;
}

}  // namespace ankh::trainer
