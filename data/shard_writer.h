// One shard as it is filled in memory by `ankh preprocess`, and the function that writes it as
// an HDF5 file (shard_format.h) under a temporary name, fsyncs it and renames it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/composition.h"
#include "data/split.h"

namespace ankh::data {

class ShardBuffer {
 public:
  explicit ShardBuffer(Split split, uint64_t reserve_residues = 0);

  // `id_hash`: a 64-bit hash of the id (the split hash), kept for the duplicate check.
  void add(std::string_view id, uint64_t id_hash, const uint8_t* tokens, std::size_t length);
  // Empties the buffer for reuse, keeping its memory (no page faults for the next shard).
  void clear(Split split);

  Split split() const { return split_; }
  int64_t sequences() const { return static_cast<int64_t>(offsets_.size()) - 1; }
  int64_t residues() const { return static_cast<int64_t>(tokens_.size()); }
  bool empty() const { return sequences() == 0; }
  // Rough memory held, for the shard-size limit (tokens + offsets + ids).
  uint64_t bytes() const { return tokens_.size() + 8 * offsets_.size() + id_bytes_.size(); }

  const std::vector<uint8_t>& tokens() const { return tokens_; }
  const std::vector<uint64_t>& offsets() const { return offsets_; }
  std::string_view id(int64_t i) const;
  const char* id_c_str(int64_t i) const { return id_bytes_.data() + id_begin(i); }  // NUL-terminated
  uint64_t id_hash(int64_t i) const { return id_hashes_[static_cast<std::size_t>(i)]; }

 private:
  Split split_;
  std::vector<uint8_t> tokens_;
  std::vector<uint64_t> offsets_{0};
  uint64_t id_begin(int64_t i) const { return i == 0 ? 0 : id_ends_[static_cast<std::size_t>(i - 1)] + 1; }

  std::string id_bytes_;             // every id, each followed by a NUL (HDF5 wants C strings)
  std::vector<uint64_t> id_ends_;    // end of id i in id_bytes_ (where its NUL is)
  std::vector<uint64_t> id_hashes_;
};

// What the manifest records about a shard.
struct ShardInfo {
  std::string file;  // name inside the dataset directory
  Split split = Split::Train;
  int64_t number = 0;
  int64_t sequences = 0;
  int64_t residues = 0;
  uint32_t tokens_crc32 = 0;   // zlib CRC-32 of /tokens
  uint32_t offsets_crc32 = 0;  // zlib CRC-32 of /offsets as little-endian uint64
  uint64_t file_bytes = 0;
  // How often each stored token occurs; absent in manifests written before ankh counted it.
  std::optional<Composition> composition;
};

enum class Durability {
  Now,       // fsync before the rename: the file is durable under its final name
  Deferred,  // start the writeback and rename; the caller fsyncs before relying on it
};

// Writes `shard` as DIR/<split>-<number>.h5 (under a temporary name, renamed when complete).
// Throws IoError naming the file on any failure, leaving no file under the final name.
ShardInfo write_shard(const std::filesystem::path& dir, int64_t number, const ShardBuffer& shard,
                      Durability durability = Durability::Now);

}  // namespace ankh::data
