// Finds record ids that occur more than once, over any number of shards, with memory bounded by
// one shard: each shard's ids are sorted and spilled to a run file, and the runs are merged at
// the end (an external sort). Duplicates are kept in the dataset and reported.
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

  // Spills the ids of one shard; thread-safe (shard writers call it concurrently).
  void add(const ShardBuffer& shard, const std::string& run_name);

  struct Result {
    int64_t duplicates = 0;             // records whose id was already seen
    std::vector<std::string> examples;  // a few of the repeated ids
  };
  // Merges the runs. Call once, after every add.
  Result finish(std::size_t max_examples = 5);

 private:
  std::filesystem::path dir_;
  std::mutex mutex_;
  std::vector<std::filesystem::path> runs_;
};

}  // namespace ankh::data
