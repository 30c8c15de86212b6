// XXH64 (xxHash, 64-bit), streaming. Checkpoint commit markers record it for every file: it runs
// at memory speed (far above disk speed, so hashing while writing or loading costs nothing
// visible), and any tool can recompute it (`xxhsum -H64`, Python's `xxhash.xxh64`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ankh::ckpt {

class Xxh64 {
 public:
  explicit Xxh64(uint64_t seed = 0);
  // Feeds bytes; calls may split the input anywhere, the digest is the same.
  void update(const void* data, std::size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  // The hash of everything fed so far (does not change the state).
  uint64_t digest() const;

 private:
  uint64_t v_[4];
  uint64_t total_ = 0;
  unsigned char buffer_[32];
  std::size_t buffered_ = 0;
  uint64_t seed_;
};

// One-shot hash of `bytes`.
uint64_t xxh64(std::string_view bytes, uint64_t seed = 0);

// 16 lower-case hex digits, as xxhsum prints it; parse_hex is its inverse and returns false
// when `text` is not exactly 16 hex digits.
std::string to_hex(uint64_t value);
bool parse_hex(std::string_view text, uint64_t& value);

}  // namespace ankh::ckpt
