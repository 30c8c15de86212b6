// One shard file of a dataset, checked against its manifest entry and memory-mapped: what
// Dataset reads sequences from and what `ankh verify` checks (Dataset directory contract in
// docs/architecture.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "data/shard_writer.h"

namespace ankh::data {

class MappedFile;

class MappedShard {
 public:
  // Opens and maps `path`, checking what costs no more than its metadata: the file's size
  // against the manifest, the root attributes, each dataset's shape, type and contiguity.
  // InputError naming the file otherwise.
  MappedShard(std::filesystem::path path, const ShardInfo& info);
  ~MappedShard();
  MappedShard(const MappedShard&) = delete;
  MappedShard& operator=(const MappedShard&) = delete;

  // The offsets against the manifest's checksum, spanning /tokens, strictly increasing
  // (8 bytes per sequence: cheap enough for every open). InputError otherwise.
  void check_offsets() const;

  const ShardInfo& info() const { return info_; }
  const std::filesystem::path& path() const { return path_; }
  const uint8_t* tokens() const { return tokens_; }
  // Where /tokens starts in the file: scans read it with pread rather than through the mapping,
  // whose pages are advised for random access.
  uint64_t tokens_file_offset() const { return tokens_at_; }
  uint64_t offset(int64_t i) const;
  // The sequence holding token position `position` (offsets checked first).
  int64_t sequence_at(int64_t position) const;
  // Record `i`'s id: the shard's /ids are read once, on first use (tools and errors only).
  std::string id(int64_t i) const;

  [[noreturn]] void corrupt(const std::string& what) const;

 private:
  void check_structure();
  void read_ids() const;

  std::filesystem::path path_;
  ShardInfo info_;
  std::unique_ptr<MappedFile> map_;
  const uint8_t* tokens_ = nullptr;
  uint64_t tokens_at_ = 0;
  const uint8_t* offsets_ = nullptr;  // sequences + 1 little-endian uint64, at any byte address

  mutable std::once_flag ids_once_;
  mutable std::string ids_;             // every id, concatenated
  mutable std::vector<uint64_t> id_ends_;
};

// Record `index` of one shard file's /ids (tools and reports; opens the file each call).
std::string read_shard_id(const std::filesystem::path& shard_file, int64_t index);

}  // namespace ankh::data
