#include "trainer/parallel/grad_buckets.h"

#include <algorithm>
#include <map>
#include <utility>

namespace ankh::parallel {

std::vector<BucketLayout> assign_buckets(const std::vector<torch::Tensor>& params, int64_t bucket_bytes,
                                         int64_t first_bucket_bytes) {
  struct Open {
    BucketLayout layout;
    std::size_t first_position = 0;  // position of its first parameter in reverse order
    bool closed_one = false;         // this key already closed a bucket: later ones use bucket_bytes
  };
  // One open bucket per (dtype, device).
  using Key = std::pair<int, std::string>;
  std::map<Key, Open> open;
  std::vector<std::pair<std::size_t, BucketLayout>> done;

  auto close = [&](Open& o) {
    done.emplace_back(o.first_position, std::move(o.layout));
    o.layout = BucketLayout{};
    o.closed_one = true;
  };

  for (std::size_t position = 0; position < params.size(); ++position) {
    const std::size_t index = params.size() - 1 - position;
    const torch::Tensor& p = params[index];
    Open& o = open[Key{static_cast<int>(p.scalar_type()), p.device().str()}];
    if (o.layout.slots.empty()) {
      o.layout.dtype = p.scalar_type();
      o.layout.device = p.device();
      o.first_position = position;
    }
    o.layout.slots.push_back({index, o.layout.numel, p.numel()});
    o.layout.numel += p.numel();
    const int64_t limit = o.closed_one ? bucket_bytes : first_bucket_bytes;
    if (o.layout.bytes() >= limit) close(o);
  }
  for (auto& [key, o] : open)
    if (!o.layout.slots.empty()) close(o);

  std::stable_sort(done.begin(), done.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<BucketLayout> out;
  out.reserve(done.size());
  for (auto& d : done) out.push_back(std::move(d.second));
  return out;
}

}  // namespace ankh::parallel
