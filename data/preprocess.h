// `ankh preprocess`: FASTA files (plain or gzip) -> a dataset directory (manifest.yaml + HDF5
// shards, see shard_format.h). One streaming pass; memory stays O(shard size x threads) whatever
// the input size. Shards are written under a staging directory and moved into place only when
// every one of them is complete; the manifest is written last, so an interrupted or failed run
// never leaves something that looks like a dataset (and never damages an existing one).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include "data/fasta_reader.h"
#include "data/manifest.h"

namespace ankh::data {

struct PreprocessOptions {
  std::vector<std::filesystem::path> inputs;
  std::filesystem::path output;
  double valid_fraction = 0.001;
  InvalidPolicy on_invalid = InvalidPolicy::Error;
  int64_t shard_sequences = 0;  // > 0: cut shards by sequence count instead of size
  int64_t shard_mb = 128;       // shard size in MiB (residues + offsets + ids)
  int threads = 1;              // 1: everything on the calling thread; more: shards written in parallel
  bool overwrite = false;       // replace a dataset already in `output`
  bool progress = true;         // progress bar / periodic log lines
};

struct PreprocessResult {
  Manifest manifest;
  double seconds = 0;
  uint64_t input_bytes = 0;               // sum of the input file sizes
  std::vector<std::string> duplicate_examples;
};

// Throws UsageError for bad options, IoError/InputError (naming file and line) for bad input.
PreprocessResult preprocess(const PreprocessOptions& options);

// The deterministic split: a record goes to the valid split when a hash of its id falls below
// `valid_fraction`, so a record's split never depends on the other records or files.
bool in_valid_split(std::string_view id, double valid_fraction);
// The same from the id's hash (id_hash), which preprocess computes once per record.
uint64_t id_hash(std::string_view id);
bool in_valid_split(uint64_t id_hash, double valid_fraction);

}  // namespace ankh::data
