// Memory of running the encoder on user proteins (`ankh embed`, `ankh probe`, probing while
// training): an upper-bound estimate of one batch's peak, and how much memory this process may
// still take on its device. Both are checked before a batch runs, so that a protein too long for
// the machine ends in an error naming it instead of an allocator failure or the OOM killer.
// Formula and measurements: docs/model.md "Inference memory".
#pragma once

#include <cstdint>
#include <string>

#include <torch/types.h>

#include "trainer/model/model_config.h"

namespace ankh::model {

struct InferenceMemory {
  double weights = 0;      // bytes: every parameter of the model as built, in the compute dtype
  double activations = 0;  // bytes: peak of the tensors of one encoder forward, allocator margin included
  double total() const { return weights + activations; }
};

// One encoder forward (no gradients) over `batch` proteins padded to `tokens` tokens (the longest
// protein's residues + </s>), with weights and activations in `dtype` (kFloat32 or kBFloat16;
// scores and softmax are fp32 either way). Monotone in batch and tokens.
InferenceMemory estimate_encoder_inference(const ModelConfig& config, int64_t batch, int64_t tokens,
                                           torch::ScalarType dtype);

// Multiplied into the modelled tensors: what the allocator keeps beyond live tensors (freed heap
// that glibc does not return, kernel workspaces). Measured up to 1.06 on the CPU (docs/model.md).
inline constexpr double kInferenceMemoryMargin = 1.10;

// Memory this process can still allocate on `device`, and what limits it.
struct MemoryHeadroom {
  double bytes = 0;
  std::string limited_by;  // "MemAvailable", "cgroup memory.max", "RLIMIT_AS", "CUDA free memory", ...
};
// CPU: the tightest of the cgroup's limit (v2 memory.max, every ancestor; v1
// hierarchical_memory_limit) less its usage without reclaimable page cache, RLIMIT_AS less the
// address space in use, RLIMIT_DATA less the data segment, and /proc/meminfo's MemAvailable.
// CUDA: the device's free memory plus what LibTorch's caching allocator holds unused.
MemoryHeadroom memory_headroom(const torch::Device& device);

// "8G", "512MiB", "1.5GB", "2000000000" -> bytes (K/M/G/T in powers of 1024, with or without "B"
// or "iB"); UsageError naming `option` otherwise.
double parse_memory_size(const std::string& text, const std::string& option);

}  // namespace ankh::model
