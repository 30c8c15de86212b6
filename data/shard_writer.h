// One shard as it is filled in memory by `ankh preprocess`, and the function that writes it as
// an HDF5 file (shard_format.h) under a temporary name, fsyncs it and renames it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "data/split.h"

namespace ankh::data {

class ShardBuffer {
 public:
  explicit ShardBuffer(Split split, uint64_t reserve_residues = 0);

  void add(std::string_view id, const uint8_t* tokens, std::size_t length);

  Split split() const { return split_; }
  int64_t sequences() const { return static_cast<int64_t>(offsets_.size()) - 1; }
  int64_t residues() const { return static_cast<int64_t>(tokens_.size()); }
  bool empty() const { return sequences() == 0; }
  // Rough memory held, for the shard-size limit (tokens + offsets + ids).
  uint64_t bytes() const { return tokens_.size() + 8 * offsets_.size() + id_bytes_.size(); }

  const std::vector<uint8_t>& tokens() const { return tokens_; }
  const std::vector<uint64_t>& offsets() const { return offsets_; }
  std::string_view id(int64_t i) const;
  std::size_t max_id_length() const { return max_id_length_; }

 private:
  Split split_;
  std::vector<uint8_t> tokens_;
  std::vector<uint64_t> offsets_{0};
  std::string id_bytes_;             // every id, concatenated
  std::vector<uint64_t> id_ends_;    // end of id i in id_bytes_
  std::size_t max_id_length_ = 0;
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
};

// Writes `shard` as DIR/<split>-<number>.h5 (temp name, fsync, rename). Throws IoError naming
// the file on any failure, leaving no file under the final name.
ShardInfo write_shard(const std::filesystem::path& dir, int64_t number, const ShardBuffer& shard);

}  // namespace ankh::data
