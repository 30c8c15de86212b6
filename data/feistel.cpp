#include "data/feistel.h"

#include "core/hash.h"

namespace ankh::data {

FeistelPermutation::FeistelPermutation(uint64_t n, uint64_t key) : n_(n) {
  half_bits_ = 1;
  while (half_bits_ < 32 && (uint64_t{1} << (2 * half_bits_)) < n) ++half_bits_;
  half_mask_ = (uint64_t{1} << half_bits_) - 1;
  for (int r = 0; r < kRounds; ++r) keys_[r] = core::hash_words(key, static_cast<uint64_t>(r));
}

uint64_t FeistelPermutation::encrypt(uint64_t x) const {
  uint64_t left = x >> half_bits_, right = x & half_mask_;
  for (int r = 0; r < kRounds; ++r) {
    const uint64_t next = left ^ (core::mix64(right ^ keys_[r]) & half_mask_);
    left = right;
    right = next;
  }
  return (left << half_bits_) | right;
}

uint64_t FeistelPermutation::operator()(uint64_t i) const {
  // Cycle walking: the orbit of i under encrypt() re-enters [0, n) before it closes, so this
  // terminates, and it maps [0, n) onto itself one-to-one.
  uint64_t y = encrypt(i);
  while (y >= n_) y = encrypt(y);
  return y;
}

}  // namespace ankh::data
