// Our own reader and writer of the safetensors format (https://github.com/huggingface/safetensors),
// so that checkpoints and exports open in any tool without pickles:
//
//   [8 bytes: N, little-endian u64] [N bytes: JSON header, space-padded to a multiple of 8] [data]
//   header = {"__metadata__": {str: str}, NAME: {"dtype": "F32", "shape": [..],
//             "data_offsets": [begin, end]}, ...}   (offsets relative to the start of the data)
//
// Files we write are deterministic: names sorted, data laid out in name order, no gaps.
// Files we read are validated against their size before any tensor is touched; every problem is
// a CheckpointError naming the file and the tensor.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <torch/types.h>

#include "checkpoints/checksum.h"

#include "core/file_descriptor.h"
#include "core/named_tensors.h"

namespace ankh::checkpoints {

// Sorted by name, like the files' headers.
using core::NamedTensors;
using Metadata = std::map<std::string, std::string>;

// Dtype names of the format: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL.
std::string safetensors_dtype(torch::ScalarType type);  // CheckpointError for other types
std::optional<torch::ScalarType> parse_safetensors_dtype(std::string_view name);

// Size and XXH64 of a file as written (what commit markers record).
struct FileDigest {
  uint64_t bytes = 0;
  uint64_t xxh64 = 0;
};

// Detached, contiguous CPU copies of `tensors` that nothing else aliases: a snapshot that training
// may keep updating past (CPU tensors are copied too, since optimizers update in place).
NamedTensors snapshot_to_cpu(const NamedTensors& tensors);

// Writes `tensors` (any device, any layout: copied to contiguous CPU memory when needed) to
// `path` atomically: a temporary sibling, fsync, rename. Returns what was written.
FileDigest write_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                             const Metadata& metadata = {});

// Where one tensor lives in a file.
struct TensorInfo {
  torch::ScalarType dtype = torch::kFloat;
  std::string dtype_name;      // as in the header ("BF16")
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range within the data section
  uint64_t bytes() const { return end - begin; }
};

// An open, validated safetensors file. Tensors are read with pread straight into their own
// memory (one copy from the page cache, no mapping kept alive by the returned tensors).
class SafetensorsReader {
 public:
  explicit SafetensorsReader(std::filesystem::path path);
  ~SafetensorsReader();
  SafetensorsReader(SafetensorsReader&& other) noexcept;
  SafetensorsReader& operator=(SafetensorsReader&& other) noexcept;
  SafetensorsReader(const SafetensorsReader&) = delete;
  SafetensorsReader& operator=(const SafetensorsReader&) = delete;

  const std::filesystem::path& path() const { return path_; }
  uint64_t file_size() const { return file_size_; }
  std::vector<std::string> names() const;  // sorted
  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
  // CheckpointError naming the file, the tensor and the nearest existing name when absent.
  const TensorInfo& info(const std::string& name) const;
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const Metadata& metadata() const { return metadata_; }

  torch::Tensor load(const std::string& name) const;
  // Every tensor, read in file order. With `file_xxh64`, also the XXH64 of the whole file
  // (the data section has no gaps), computed alongside the reads: no second pass.
  NamedTensors load_all(uint64_t* file_xxh64 = nullptr) const;

 private:
  void read_exact(void* dst, uint64_t size, uint64_t offset, const std::string& what) const;

  std::filesystem::path path_;
  core::FileDescriptor fd_;
  uint64_t file_size_ = 0;
  uint64_t data_start_ = 0;   // 8 + header length
  std::string prefix_;        // the 8 length bytes and the header, for load_all's hash
  std::map<std::string, TensorInfo> tensors_;
  Metadata metadata_;
};

}  // namespace ankh::checkpoints
