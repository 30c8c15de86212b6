// manifest.yaml of a dataset directory: what `ankh preprocess` read, what it counted, and every
// shard with its counts and checksums. Written last (its presence marks a complete dataset) and
// checked against the shards by Dataset::open.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "data/shard_writer.h"
#include "data/split.h"

namespace ankh::data {

struct SourceInfo {
  std::string path;
  uint64_t bytes = 0;     // file size as read (compressed size for .gz)
  int64_t records = 0;    // FASTA records (headers) in this file
};

// Everything `ankh preprocess` counted, so that a user sees what the input policy did.
struct PreprocessCounts {
  int64_t records = 0;               // FASTA records read (headers)
  int64_t sequences = 0;             // records kept in the dataset
  int64_t residues = 0;              // residues kept
  int64_t empty_records = 0;         // records with no residues: skipped
  int64_t stripped_stops = 0;        // records whose trailing '*' was removed
  int64_t invalid_characters = 0;    // characters outside the vocabulary (all policies)
  int64_t records_with_invalid = 0;  // records that had at least one
  int64_t unknown_residues = 0;      // --on-invalid unk: characters stored as <unk>
  int64_t skipped_invalid = 0;       // --on-invalid skip: records dropped
  int64_t duplicate_ids = 0;         // records whose id appeared before (kept; reported)
};

struct SplitTotals {
  int64_t sequences = 0;
  int64_t residues = 0;
  int64_t shards = 0;
};

struct Manifest {
  std::string format;  // shard::kFormatName
  int64_t format_version = 0;
  std::string vocabulary;
  std::string created_by;  // "ankh 0.1.0"
  std::string on_invalid;  // error | unk | skip
  double valid_fraction = 0;
  std::vector<SourceInfo> sources;
  PreprocessCounts counts;
  std::vector<ShardInfo> shards;  // train shards in order, then valid shards in order

  SplitTotals totals(Split split) const;
  // The split's residue composition, when every shard of it records one.
  std::optional<Composition> composition(Split split) const;
  std::string to_yaml() const;
  // Parses and checks the structure (keys present, types right); `where` names the file.
  static Manifest parse(const std::string& text, const std::string& where);
  static Manifest read(const std::filesystem::path& file);
};

}  // namespace ankh::data
