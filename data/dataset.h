// A dataset directory opened for reading: the manifest checked against every shard, the
// contiguous /tokens and /offsets of each shard memory-mapped, so that any sequence of either
// split is a pointer away (zero-copy) and all ranks on a host share the page cache.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "data/data_config.h"
#include "data/manifest.h"
#include "data/mapped_shard.h"
#include "data/split.h"
#include "data/token_view.h"

namespace ankh::data {

class MappedShard;

class Dataset {
 public:
  // Opens DIR (manifest.yaml + shards). InputError naming the file on a missing, corrupt or
  // inconsistent shard, a foreign format version or vocabulary.
  static std::shared_ptr<const Dataset> open(const std::filesystem::path& dir, Verify verify = Verify::Quick);
  ~Dataset();
  Dataset(const Dataset&) = delete;
  Dataset& operator=(const Dataset&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  const Manifest& manifest() const { return manifest_; }

  int64_t size(Split split) const { return totals_[index(split)].sequences; }
  int64_t residues(Split split) const { return totals_[index(split)].residues; }
  // Residues of sequence `i` of `split` (no </s>).
  int64_t length(Split split, int64_t i) const;
  // Sequence `i` of `split`, each token checked to be a residue or <unk> (the bytes go to an
  // embedding table next): InputError naming the shard, the sequence and its id otherwise.
  TokenView tokens(Split split, int64_t i) const;
  // The record id (first word of the FASTA header). Reads and caches the shard's ids on first
  // use: meant for tools and debugging, not for the training hot path.
  std::string id(Split split, int64_t i) const;

 private:
  explicit Dataset(std::filesystem::path dir);
  static int index(Split s) { return s == Split::Train ? 0 : 1; }
  const MappedShard& locate(Split split, int64_t i, int64_t& local) const;

  std::filesystem::path dir_;
  Manifest manifest_;
  std::vector<std::unique_ptr<MappedShard>> shards_[2];
  std::vector<int64_t> starts_[2];  // first global index of each shard of the split
  SplitTotals totals_[2];
};

}  // namespace ankh::data
