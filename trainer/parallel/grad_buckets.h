// Which parameters share a flat gradient buffer ("bucket"), and where each one sits in it.
// Buckets are filled in REVERSE parameter order, the order in which backward produces gradients,
// so the first bucket is complete early in backward and its all-reduce can start while the rest
// of backward runs. Parameters of different dtypes or devices never share a bucket.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace ankh::parallel {

struct BucketSlot {
  std::size_t param = 0;  // index into the parameter list
  int64_t offset = 0;     // first element in the bucket's flat buffer
  int64_t numel = 0;
};

struct BucketLayout {
  torch::ScalarType dtype = torch::kFloat;
  torch::Device device = torch::kCPU;
  std::vector<BucketSlot> slots;  // in reverse parameter order
  int64_t numel = 0;

  int64_t bytes() const { return numel * static_cast<int64_t>(c10::elementSize(dtype)); }
};

// Assigns `params` (in registration order) to buckets. A bucket is closed once it holds at least
// its limit: `first_bucket_bytes` for the first bucket of each dtype and device (small, so that
// communication starts early, as in PyTorch DDP), `bucket_bytes` for the others; a parameter
// larger than the limit gets a bucket of its own. Buckets come back in the order their first
// parameter appears in reverse parameter order.
std::vector<BucketLayout> assign_buckets(const std::vector<torch::Tensor>& params, int64_t bucket_bytes,
                                         int64_t first_bucket_bytes);

}  // namespace ankh::parallel
