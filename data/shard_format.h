// The on-disk contract of a dataset directory (docs/formats.md describes it for users):
//   manifest.yaml                 written last; its presence marks a complete dataset
//   train-00000.h5, valid-00000.h5 ...   HDF5 shards, each one split:
//     /tokens   uint8  [residues]   residue ids of every sequence, concatenated (no </s>)
//     /offsets  uint64 [n + 1]      sequence i is tokens[offsets[i], offsets[i+1])
//     /ids      strings [n]  record ids (first word of the FASTA header): fixed-length,
//               NUL-padded when every id of the shard has at most 64 bytes, else variable-length
//   /tokens and /offsets are contiguous and uncompressed so that readers can memory-map them at
//   H5Dget_offset; root attributes `format`, `format_version`, `vocabulary`, `split` make every
//   shard self-describing.
#pragma once

#include <cstdint>
#include <string>

#include "data/split.h"

namespace ankh::data::shard {

inline constexpr const char* kFormatName = "ankh-dataset";
inline constexpr int64_t kFormatVersion = 1;
inline constexpr const char* kManifestName = "manifest.yaml";
inline constexpr const char* kTokens = "tokens";
inline constexpr const char* kOffsets = "offsets";
inline constexpr const char* kIds = "ids";

// "train-00012.h5"
std::string file_name(Split split, int64_t number);

// CRC-32 (zlib's, the same as Python's zlib.crc32) continued over `size` bytes: the shard
// checksums in the manifest, so that anyone can verify a shard with h5py and zlib.
uint32_t crc32(uint32_t crc, const void* data, uint64_t size);

}  // namespace ankh::data::shard
