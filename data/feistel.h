// A seeded pseudo-random permutation of [0, n), computed per index in O(1) time and memory:
// a balanced Feistel network on the smallest even-bit power of two >= n, with cycle walking
// (re-encrypting until the value falls inside [0, n); fewer than 4 rounds trips on average).
// This is the per-epoch sample order of docs/architecture.md: no table of n indices, any position of any
// epoch is available at once (resume, any rank).
#pragma once

#include <cstdint>

namespace ankh::data {

class FeistelPermutation {
 public:
  static constexpr int kRounds = 6;

  FeistelPermutation(uint64_t n, uint64_t key);
  uint64_t size() const { return n_; }
  // The image of i (i < size()); a bijection of [0, size()).
  uint64_t operator()(uint64_t i) const;

 private:
  uint64_t encrypt(uint64_t x) const;

  uint64_t n_;
  int half_bits_;
  uint64_t half_mask_;
  uint64_t keys_[kRounds];
};

}  // namespace ankh::data
