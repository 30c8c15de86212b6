// XXH64 (xxHash, 64-bit), streaming. Checkpoint commit markers record it for every file: it is
// fast (GB/s per core), computed on a helper thread alongside the writes and reads (AsyncXxh64),
// and any tool can recompute it (`xxhsum -H1 FILE`, Python's `xxhash.xxh64`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ankh::checkpoints {

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

// An Xxh64 fed on its own thread, so that hashing overlaps the I/O of the next piece (a file
// is written or read in pieces; the hash of piece k runs while piece k+1 is in flight). Pieces
// are hashed in the order given; the caller keeps each one alive and unchanged until finish().
class AsyncXxh64 {
 public:
  AsyncXxh64();
  ~AsyncXxh64();  // joins the thread
  AsyncXxh64(const AsyncXxh64&) = delete;
  AsyncXxh64& operator=(const AsyncXxh64&) = delete;

  void update(const void* data, std::size_t size);
  // Waits for every piece; the digest of all of them.
  uint64_t finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// One-shot hash of `bytes`.
uint64_t xxh64(std::string_view bytes, uint64_t seed = 0);

// 16 lower-case hex digits, as xxhsum prints it; parse_hex is its inverse and returns false
// when `text` is not exactly 16 hex digits.
std::string to_hex(uint64_t value);
bool parse_hex(std::string_view text, uint64_t& value);

}  // namespace ankh::checkpoints
