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
  // How [p, p + n), a part of this mapping, will be read: advice to the kernel (madvise).
  enum class Access {
    Random,    // single records at random: fault in only the page touched, no read-around
    WillNeed,  // a sequential scan comes next: start reading it all now
  };
  void advise(const uint8_t* p, std::size_t n, Access access) const;

 private:
  const uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace ankh::data
