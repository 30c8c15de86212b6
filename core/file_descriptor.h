// An owned POSIX file descriptor: closed exactly once, when it goes out of scope, on every path
// out of a function (errors included). close() instead reports a failed close (what the kernel
// says about delayed write errors) for files that were written.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace ankh::core {

class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor();
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  // open(2) with O_CLOEXEC added; IoError naming `path` and the system's reason when it fails.
  static FileDescriptor open(const std::filesystem::path& path, int flags, mode_t mode = 0644);

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership: the caller closes the returned descriptor.
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Reads exactly `size` bytes at `offset` (pread, so threads may share the descriptor); IoError
  // naming `path` on a read error or an end of file before `size` bytes.
  void read_at(void* dst, std::size_t size, uint64_t offset, const std::filesystem::path& path) const;
  // Closes now; IoError naming `path` when close(2) fails. A second call does nothing.
  void close(const std::filesystem::path& path);

 private:
  int fd_ = -1;
};

}  // namespace ankh::core
