// A read-only memory mapping of a whole file. The loader maps the contiguous HDF5 datasets this
// way, so that random access is a pointer dereference and every rank on a host shares one copy
// in the page cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace ankh::data {

class MappedFile {
 public:
  // IoError naming the file when it cannot be opened or mapped.
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  // Advises the kernel that [p, p + n), a part of this mapping, is read as single records at
  // random: a page fault then reads only its page, without the ~128 KiB read-around.
  void advise_random(const uint8_t* p, std::size_t n) const;

 private:
  const uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace ankh::data
