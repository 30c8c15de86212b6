#include "core/file_descriptor.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace ankh::core {

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);  // errors cannot be reported from here; writers call close()
}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

void FileDescriptor::read_at(void* dst, std::size_t size, uint64_t offset, const std::filesystem::path& path) const {
  auto* p = static_cast<char*>(dst);
  while (size > 0) {
    const ssize_t n = ::pread(fd_, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError(std::string("read failed: ") + std::strerror(errno), path.string());
    if (n == 0) throw IoError("unexpected end of file at byte " + std::to_string(offset), path.string());
    p += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

FileDescriptor FileDescriptor::open(const std::filesystem::path& path, int flags, mode_t mode) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) throw IoError(std::string("cannot open: ") + std::strerror(errno), path.string());
  return FileDescriptor(fd);
}

void FileDescriptor::close(const std::filesystem::path& path) {
  if (fd_ < 0) return;
  const int fd = release();
  if (::close(fd) != 0) throw IoError(std::string("close failed: ") + std::strerror(errno), path.string());
}

}  // namespace ankh::core
