// The COMMITTED file of a checkpoint directory: written last, it is what makes a checkpoint
// exist. JSON, so that people and scripts can read it:
//   {"format": "ankh-checkpoint", "format_version": 1, "step": 1000,
//    "files": {"model.safetensors": {"bytes": 123, "xxh64": "0123456789abcdef"}, ...}}
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "checkpoints/safetensors.h"

namespace ankh::checkpoints {

struct CommitMarker {
  int format_version = 0;
  int64_t step = 0;
  std::map<std::string, FileDigest> files;

  std::string to_json() const;
  // CheckpointError naming `where` (the marker's path) for anything malformed.
  static CommitMarker parse(const std::string& text, const std::string& where);
};

}  // namespace ankh::checkpoints
