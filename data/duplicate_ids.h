// Counts records whose id occurred before, over any number of shards, with memory bounded by one
// shard: each shard's 64-bit id hashes are sorted and spilled to a run file, and the runs are
// merged at the end (an external sort). Duplicates are kept in the dataset and reported.
//
// Ids are compared by hash: two different ids count as duplicates only if their 64-bit hashes
// collide, which for 60 M records (UniRef50) happens with probability ~1e-4, and costs nothing
// but a count one too high. The reported examples are read back from the shards.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "data/shard_writer.h"

namespace ankh::data {

class DuplicateIdFinder {
 public:
  // Run files go to `scratch_dir` (created by the caller, removed by it afterwards).
  explicit DuplicateIdFinder(std::filesystem::path scratch_dir);

  // Spills the id hashes of one shard, written to `shard_file`; thread-safe (shard writers call
  // it concurrently).
  void add(const ShardBuffer& shard, const std::filesystem::path& shard_file);

  struct Result {
    int64_t duplicates = 0;             // records whose id was already seen
    std::vector<std::string> examples;  // a few of the repeated ids
  };
  // Merges the runs; reads the examples from the shard files (which must still exist). Call
  // once, after every add.
  Result finish(std::size_t max_examples = 5);

 private:
  struct Run {
    std::filesystem::path file, shard_file;
  };
  std::filesystem::path dir_;
  std::mutex mutex_;
  std::vector<Run> runs_;
};

}  // namespace ankh::data
