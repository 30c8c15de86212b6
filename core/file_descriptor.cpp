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
