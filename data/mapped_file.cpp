#include "data/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/error.h"
#include "core/file_descriptor.h"

namespace ankh::data {

MappedFile::MappedFile(const std::filesystem::path& path) {
  const auto fd = core::FileDescriptor::open(path, O_RDONLY);  // closed on return: the mapping keeps the file alive
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw core::IoError(std::string("cannot stat: ") + std::strerror(errno), path.string());
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd.get(), 0);
    if (p == MAP_FAILED) throw core::IoError(std::string("cannot memory-map: ") + std::strerror(errno), path.string());
    data_ = static_cast<const uint8_t*>(p);
  }
}

void MappedFile::advise_random(const uint8_t* p, std::size_t n) const {
  // madvise wants a page-aligned start; advice only, so its result is ignored.
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<std::uintptr_t>(p) & ~(page - 1);
  ::madvise(reinterpret_cast<void*>(begin), n + (reinterpret_cast<std::uintptr_t>(p) - begin), MADV_RANDOM);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace ankh::data
