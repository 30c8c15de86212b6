#include "data/input_stream.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "core/error.h"
#include "core/file_descriptor.h"

namespace ankh::data {

namespace {

class PlainStream final : public InputStream {
 public:
  PlainStream(core::FileDescriptor fd, std::string name, uint64_t size) : fd_(std::move(fd)) {
    name_ = std::move(name);
    file_size_ = size;
    ::posix_fadvise(fd_.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  ~PlainStream() override { unmap(); }

  // Large blocks come from a read-only mapping of the file, a window at a time (populated at
  // once, so no page faults either): the parser reads the page cache in place.
  std::string_view next_block(char* scratch, std::size_t n) override {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    if (n < (1u << 20) || position_ % page != 0) return InputStream::next_block(scratch, n);
    unmap();
    if (position_ >= file_size_) return {};
    const std::size_t window = std::min<uint64_t>((n + page - 1) / page * page, file_size_ - position_);
    void* p = ::mmap(nullptr, window, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd_.get(), static_cast<off_t>(position_));
    if (p == MAP_FAILED) return InputStream::next_block(scratch, n);  // e.g. a pipe: plain reads
    window_ = p;
    window_size_ = window;
    position_ += window;
    if (::lseek(fd_.get(), static_cast<off_t>(position_), SEEK_SET) < 0)
      throw core::IoError(std::string("seek failed: ") + std::strerror(errno), name_);
    return {static_cast<const char*>(p), window};
  }

  std::size_t read(char* buf, std::size_t n) override {
    for (;;) {
      const ssize_t got = ::read(fd_.get(), buf, n);
      if (got >= 0) {
        position_ += static_cast<uint64_t>(got);
        return static_cast<std::size_t>(got);
      }
      if (errno != EINTR) throw core::IoError(std::string("read failed: ") + std::strerror(errno), name_);
    }
  }
  uint64_t file_position() const override { return position_; }
  bool compressed() const override { return false; }

 private:
  void unmap() {
    if (window_) ::munmap(window_, window_size_);
    window_ = nullptr;
  }

  core::FileDescriptor fd_;
  uint64_t position_ = 0;
  void* window_ = nullptr;
  std::size_t window_size_ = 0;
};

class GzipStream final : public InputStream {
 public:
  GzipStream(gzFile gz, std::string name, uint64_t size) : gz_(gz) {
    name_ = std::move(name);
    file_size_ = size;
    gzbuffer(gz_, 1 << 20);  // zlib's default 8 KiB input buffer costs ~10% in calls
  }
  ~GzipStream() override { gzclose(gz_); }

  std::size_t read(char* buf, std::size_t n) override {
    const int got = gzread(gz_, buf, static_cast<unsigned>(std::min<std::size_t>(n, INT_MAX)));
    int err = Z_OK;
    const char* message = gzerror(gz_, &err);
    // A stream that ends before its gzip trailer reads as a short read with Z_BUF_ERROR.
    if (got < 0 || (got == 0 && err != Z_OK)) {
      if (err == Z_BUF_ERROR)
        throw core::InputError("truncated gzip stream (unexpected end of file after " +
                                   std::to_string(gzoffset(gz_)) + " compressed bytes)",
                               name_, "the file is incomplete: download or copy it again");
      if (err == Z_ERRNO) throw core::IoError(std::string("read failed: ") + std::strerror(errno), name_);
      throw core::InputError(std::string("corrupt gzip stream: ") + (message ? message : "unknown error"), name_,
                             "check the file with `gzip -t`");
    }
    return static_cast<std::size_t>(got);
  }
  uint64_t file_position() const override {
    const z_off_t at = gzoffset(gz_);
    return at < 0 ? 0 : static_cast<uint64_t>(at);
  }
  bool compressed() const override { return true; }

 private:
  gzFile gz_;
};

}  // namespace

std::unique_ptr<InputStream> InputStream::open(const std::filesystem::path& path) {
  const std::string name = path.string();
  core::FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid())
    throw core::IoError(std::string("cannot open input: ") + std::strerror(errno), name,
                        errno == ENOENT ? "check the path given to --input" : "");
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw core::IoError("input is a directory, not a FASTA file", name);
  const uint64_t size = std::filesystem::file_size(path, ec);
  unsigned char magic[2] = {0, 0};
  const ssize_t got = ::pread(fd.get(), magic, 2, 0);
  if (got < 0) throw core::IoError(std::string("cannot read input: ") + std::strerror(errno), name);
  if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    gzFile gz = gzdopen(fd.get(), "rb");
    if (!gz) throw core::IoError("cannot open gzip stream", name);
    fd.release();  // the gzip stream owns it now (gzclose closes it)
    return std::make_unique<GzipStream>(gz, name, ec ? 0 : size);
  }
  return std::make_unique<PlainStream>(std::move(fd), name, ec ? 0 : size);
}

}  // namespace ankh::data
