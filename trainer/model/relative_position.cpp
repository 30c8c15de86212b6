#include "trainer/model/relative_position.h"

#include <cmath>

namespace ankh::model {

torch::Tensor relative_position_bucket(const torch::Tensor& relative_position, bool bidirectional,
                                       int64_t num_buckets, int64_t max_distance) {
  torch::Tensor buckets = torch::zeros_like(relative_position);
  torch::Tensor distance;
  if (bidirectional) {
    num_buckets /= 2;
    buckets = buckets + (relative_position > 0).to(torch::kLong) * num_buckets;
    distance = relative_position.abs();
  } else {
    distance = -torch::min(relative_position, torch::zeros_like(relative_position));
  }
  const int64_t max_exact = num_buckets / 2;
  const torch::Tensor is_small = distance < max_exact;
  // The same float32 operations in the same order as Hugging Face: the truncation to an integer
  // bucket is sensitive to the last bit, and exported models must bucket identically.
  torch::Tensor if_large =
      max_exact + (torch::log(distance.to(torch::kFloat) / max_exact) /
                   std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact)) *
                   (num_buckets - max_exact))
                      .to(torch::kLong);
  if_large = torch::min(if_large, torch::full_like(if_large, num_buckets - 1));
  return buckets + torch::where(is_small, distance, if_large);
}

torch::Tensor relative_positions(int64_t query_len, int64_t key_len, const torch::Device& device) {
  const auto options = torch::TensorOptions().dtype(torch::kLong).device(device);
  const torch::Tensor query = torch::arange(query_len, options).unsqueeze(1);
  const torch::Tensor key = torch::arange(key_len, options).unsqueeze(0);
  return key - query;
}

}  // namespace ankh::model
