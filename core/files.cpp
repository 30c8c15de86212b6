#include "core/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/file_descriptor.h"

namespace ankh::core {

namespace fs = std::filesystem;

fs::path temp_path_for(const fs::path& target) {
  return target.parent_path() / (target.filename().string() + ".tmp-" + std::to_string(::getpid()));
}

void fsync_path(const fs::path& path) {
  const FileDescriptor fd = FileDescriptor::open(path, O_RDONLY);
  const int rc = ::fsync(fd.get());
  const int err = errno;
  // Some file systems refuse fsync on directories (EINVAL); the data itself was synced.
  if (rc != 0 && err != EINVAL) throw IoError(std::string("fsync failed: ") + std::strerror(err), path.string());
}

void rename_durable(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) throw IoError("cannot rename " + from.string() + " to " + to.string() + ": " + ec.message(), to.string());
  fsync_path(to.parent_path().empty() ? fs::path(".") : to.parent_path());
}

void write_file_atomic(const fs::path& target, std::string_view contents) {
  AtomicFile file(target);
  {
    std::ofstream out(file.temp_path(), std::ios::binary | std::ios::trunc);
    if (!out) throw IoError(std::string("cannot create file: ") + std::strerror(errno), file.temp_path().string());
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) throw IoError("write failed (disk full?)", file.temp_path().string());
  }
  fsync_path(file.temp_path());
  file.commit();
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(std::string("cannot read file: ") + std::strerror(errno), path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

AtomicFile::AtomicFile(fs::path target) : target_(std::move(target)), temp_(temp_path_for(target_)) {}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);  // best effort: never throw from a destructor
  }
}

void AtomicFile::commit() {
  rename_durable(temp_, target_);
  committed_ = true;
}

}  // namespace ankh::core
