// Deterministic hashing and counter-based randomness. Everything random in the data pipeline
// (sample order, crops, masks) is a pure function of integers through these, so that the same
// sample gets the same treatment on any number of ranks and after any resume.
#pragma once

#include <cstdint>
#include <string_view>

namespace ankh::core {

// SplitMix64 finaliser: a bijective 64-bit mixer with good avalanche.
constexpr uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Hash of several words, order-sensitive.
constexpr uint64_t hash_words(uint64_t a, uint64_t b) { return mix64(a ^ mix64(b)); }
constexpr uint64_t hash_words(uint64_t a, uint64_t b, uint64_t c) { return mix64(hash_words(a, b) ^ mix64(c + 0x632BE59BD9B4E019ULL)); }
constexpr uint64_t hash_words(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  return mix64(hash_words(a, b, c) ^ mix64(d + 0x8CB92BA72F3D8DD7ULL));
}

// FNV-1a over bytes, then mixed: stable across platforms and releases (used for the valid split).
inline uint64_t hash_bytes(std::string_view bytes, uint64_t seed = 0) {
  uint64_t h = 0xCBF29CE484222325ULL ^ seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  return mix64(h);
}

// 128-bit product for Lemire's method; __extension__ keeps -Wpedantic quiet about the GCC type.
__extension__ typedef unsigned __int128 uint128_ext;

// A small counter-based generator: seeded from hashes, cheap to create per sample.
class SplitMix64 {
 public:
  explicit constexpr SplitMix64(uint64_t seed) : state_(seed) {}
  constexpr uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) without modulo bias (Lemire's method).
  uint64_t below(uint64_t n) {
    if (n <= 1) return 0;
    uint128_ext m = static_cast<uint128_ext>(next()) * n;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<uint128_ext>(next()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }
  // Uniform in [0, 1).
  double uniform() { return (next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

}  // namespace ankh::core
