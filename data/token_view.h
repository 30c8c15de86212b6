// A read-only view of one sequence's residue ids (uint8 vocabulary ids), e.g. pointing into a
// memory-mapped shard. Cheap to copy; the owner (Dataset, a vector) must outlive it.
#pragma once

#include <cstdint>
#include <vector>

namespace ankh::data {

class TokenView {
 public:
  TokenView() = default;
  TokenView(const uint8_t* data, int64_t size) : data_(data), size_(size) {}
  explicit TokenView(const std::vector<uint8_t>& v) : data_(v.data()), size_(static_cast<int64_t>(v.size())) {}

  const uint8_t* data() const { return data_; }
  const uint8_t* begin() const { return data_; }
  const uint8_t* end() const { return data_ + size_; }
  int64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  uint8_t operator[](int64_t i) const { return data_[i]; }
  TokenView subview(int64_t start, int64_t length) const { return TokenView(data_ + start, length); }
  std::vector<int64_t> ids() const { return std::vector<int64_t>(begin(), end()); }

 private:
  const uint8_t* data_ = nullptr;
  int64_t size_ = 0;
};

}  // namespace ankh::data
