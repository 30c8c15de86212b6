// Bytes of an input file, plain or gzip-compressed (detected by its magic bytes, whatever the
// name), read in large blocks: the FASTA reader's only source. No iostreams, no per-byte calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace ankh::data {

class InputStream {
 public:
  virtual ~InputStream() = default;
  // Opens `path`; IoError naming it when it cannot be read.
  static std::unique_ptr<InputStream> open(const std::filesystem::path& path);

  // Reads up to `n` bytes into `buf`; returns 0 only at the end of the data. InputError on a
  // truncated or corrupt gzip stream, IoError when reading fails.
  virtual std::size_t read(char* buf, std::size_t n) = 0;
  // The next block of about `n` bytes (empty only at the end): by default read into `scratch`
  // (n bytes); a plain file returns a view of a memory-mapped window instead, saving the copy.
  // The view stays valid until the next call.
  virtual std::string_view next_block(char* scratch, std::size_t n) { return {scratch, read(scratch, n)}; }
  // Bytes of the file consumed so far (compressed bytes for gzip): progress and throughput.
  virtual uint64_t file_position() const = 0;
  virtual bool compressed() const = 0;

  const std::string& name() const { return name_; }
  uint64_t file_size() const { return file_size_; }

 protected:
  std::string name_;
  uint64_t file_size_ = 0;
};

}  // namespace ankh::data
