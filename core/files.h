// Output files that are never half-written under their final name: write to a temporary name
// beside the target, flush and fsync, then rename. A crash leaves at most a stray *.tmp file.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

namespace ankh::core {

// A sibling temporary name for `target` ("manifest.yaml" -> "manifest.yaml.tmp-<pid>").
std::filesystem::path temp_path_for(const std::filesystem::path& target);

// Writes `contents` to `target` atomically (temp file, fsync, rename, fsync of the directory).
void write_file_atomic(const std::filesystem::path& target, std::string_view contents);

// Reads a whole file; IoError naming it when that fails.
std::string read_file(const std::filesystem::path& path);

// fsync of a file or directory by path; IoError on failure.
void fsync_path(const std::filesystem::path& path);

// Renames `from` to `to` and fsyncs the parent directory so the rename itself is durable.
void rename_durable(const std::filesystem::path& from, const std::filesystem::path& to);

// A file being written under a temporary name; commit() renames it to the target, and the
// destructor removes the temporary if commit() was never reached (an exception, say).
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::filesystem::path& temp_path() const { return temp_; }
  const std::filesystem::path& target() const { return target_; }
  // Renames the (already closed) temporary file to the target, durably.
  void commit();

 private:
  std::filesystem::path target_, temp_;
  bool committed_ = false;
};

}  // namespace ankh::core
