// Reading, listing, resuming and retention of checkpoint directories (the writer is in
// checkpoint_writer.cpp).
#include "checkpoints/checkpoint_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <spdlog/spdlog.h>

#include "checkpoints/commit_marker.h"
#include "core/file_descriptor.h"
#include "core/error.h"
#include "core/files.h"
#include "core/strings.h"

namespace ankh::checkpoints {

namespace fs = std::filesystem;
using core::CheckpointError;

fs::path checkpoints_dir(const fs::path& run_dir) { return run_dir / "checkpoints"; }

fs::path checkpoint_path(const fs::path& run_dir, int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld", static_cast<long long>(step));
  return checkpoints_dir(run_dir) / name;
}

std::optional<int64_t> parse_checkpoint_name(std::string_view name) {
  constexpr std::string_view prefix = "step-";
  if (!core::starts_with(name, prefix) || name.size() == prefix.size() || name.size() > prefix.size() + 18) return std::nullopt;
  const std::string_view digits = name.substr(prefix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  return core::parse_int(digits);
}

// ---------------------------------------------------------------------------------------------
// CheckpointReader

CheckpointReader CheckpointReader::open(const fs::path& dir, Verify verify) {
  const std::string where = dir.string();
  if (!fs::is_directory(dir))
    throw CheckpointError("no checkpoint directory here", where, "give a RUN/checkpoints/step-N directory, or resume: auto");
  const fs::path marker_path = dir / kCommitMarker;
  if (!fs::exists(marker_path))
    throw CheckpointError(std::string("checkpoint is not committed (no ") + kCommitMarker + " marker)", where,
                          "its save was interrupted, so it is incomplete and never loaded: use an earlier checkpoint");
  const CommitMarker marker = CommitMarker::parse(core::read_file(marker_path), marker_path.string());
  if (marker.format_version > kCheckpointFormatVersion)
    throw CheckpointError("checkpoint format version " + std::to_string(marker.format_version) + " is newer than this build reads (" +
                              std::to_string(kCheckpointFormatVersion) + ")",
                          where, "use a newer ankh");
  if (marker.format_version < 1)
    throw CheckpointError("invalid checkpoint format version " + std::to_string(marker.format_version), marker_path.string());
  if (const auto named = parse_checkpoint_name(dir.filename().string()); named && *named != marker.step)
    spdlog::warn("{}: the directory name says step {} but its commit marker says step {}; using {}", where, *named, marker.step,
                 marker.step);

  CheckpointReader r;
  r.dir_ = dir;
  r.step_ = marker.step;
  r.format_version_ = marker.format_version;
  for (const auto& [name, digest] : marker.files) {
    if (name.empty() || fs::path(name).filename().string() != name || name == "." || name == "..")
      throw CheckpointError("commit marker lists an invalid file name '" + name + "'", marker_path.string());
    const fs::path file = dir / name;
    std::error_code ec;
    const uint64_t size = fs::file_size(file, ec);
    if (ec) throw CheckpointError("file of the checkpoint is missing or unreadable: " + ec.message(), file.string(),
                                  "the checkpoint was damaged after it was saved: use an earlier one");
    if (size != digest.bytes)
      throw CheckpointError("file has " + std::to_string(size) + " bytes but the commit marker records " + std::to_string(digest.bytes) +
                                (size < digest.bytes ? " (truncated)" : ""),
                            file.string(), "the checkpoint was damaged after it was saved: use an earlier one");
    r.files_.emplace(name, digest);
  }
  if (verify == Verify::kChecksums) r.verify_checksums();
  return r;
}

std::vector<std::string> CheckpointReader::files() const {
  std::vector<std::string> out;
  for (const auto& entry : files_) out.push_back(entry.first);
  return out;
}

fs::path CheckpointReader::path_of(const std::string& file) const {
  if (!has(file)) {
    const auto near = core::nearest(file, files());
    throw CheckpointError("checkpoint has no file '" + file + "'", dir_.string(),
                          near ? "did you mean '" + *near + "'?" : "it holds: " + core::join(files(), ", "));
  }
  return dir_ / file;
}

const FileDigest& CheckpointReader::digest(const std::string& file) const {
  path_of(file);  // the error for an unknown name
  return files_.at(file);
}

namespace {
void check_digest(const fs::path& path, const FileDigest& expected, uint64_t bytes, uint64_t hash) {
  if (bytes != expected.bytes)
    throw CheckpointError("file has " + std::to_string(bytes) + " bytes but the commit marker records " + std::to_string(expected.bytes),
                          path.string(), "the checkpoint was damaged after it was saved: use an earlier one");
  if (hash != expected.xxh64)
    throw CheckpointError("checksum mismatch: XXH64 " + to_hex(hash) + ", commit marker records " + to_hex(expected.xxh64), path.string(),
                          "the file is corrupt (disk or copy error): use an earlier checkpoint");
}
}  // namespace

NamedTensors CheckpointReader::load_tensors(const std::string& file) const {
  const fs::path path = path_of(file);
  SafetensorsReader reader(path);
  uint64_t hash = 0;
  NamedTensors tensors = reader.load_all(&hash);
  check_digest(path, files_.at(file), reader.file_size(), hash);
  return tensors;
}

SafetensorsReader CheckpointReader::open_tensors(const std::string& file) const { return SafetensorsReader(path_of(file)); }

std::string CheckpointReader::read_verified(const std::string& file) const {
  const fs::path path = path_of(file);
  std::string text = core::read_file(path);
  check_digest(path, files_.at(file), text.size(), xxh64(text));
  return text;
}

std::string CheckpointReader::read_text(const std::string& file) const { return read_verified(file); }

nlohmann::json CheckpointReader::read_json(const std::string& file) const {
  const std::string text = read_verified(file);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for a number past a double (1e606)
    throw CheckpointError(std::string("not valid JSON: ") + e.what(), path_of(file).string());
  }
}

void CheckpointReader::verify_checksums() const {
  for (const auto& [name, expected] : files_) {
    const fs::path path = dir_ / name;
    const FileDigest actual = digest_file(path);
    check_digest(path, expected, actual.bytes, actual.xxh64);
  }
}

FileDigest digest_file(const fs::path& path, std::atomic<uint64_t>* bytes_read) {
  const auto fd = core::FileDescriptor::open(path, O_RDONLY);
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<char> buffer(8 << 20);
  Xxh64 hash;
  FileDigest digest;
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw core::IoError(std::string("read failed: ") + std::strerror(errno), path.string());
    if (n == 0) break;
    hash.update(buffer.data(), static_cast<std::size_t>(n));
    digest.bytes += static_cast<uint64_t>(n);
    if (bytes_read) *bytes_read += static_cast<uint64_t>(n);
  }
  digest.xxh64 = hash.digest();
  return digest;
}

// ---------------------------------------------------------------------------------------------
// Listing, resuming, retention

std::vector<CheckpointEntry> list_checkpoints(const fs::path& run_dir) {
  std::vector<CheckpointEntry> out;
  const fs::path dir = checkpoints_dir(run_dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto step = parse_checkpoint_name(entry.path().filename().string());
    if (!step || !entry.is_directory()) continue;
    out.push_back({*step, entry.path(), fs::exists(entry.path() / kCommitMarker)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
  return out;
}

std::optional<CheckpointReader> find_latest_committed(const fs::path& run_dir, Verify verify,
                                                      const std::function<void(const CheckpointReader&)>& load) {
  const auto entries = list_checkpoints(run_dir);
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    try {
      auto reader = CheckpointReader::open(it->path, verify);
      if (load) load(reader);
      return reader;
    } catch (const core::Error& e) {
      spdlog::warn("skipping checkpoint {}: {}", it->path.string(), e.what_text());
    }
  }
  return std::nullopt;
}

std::optional<CheckpointReader> resolve_resume(const fs::path& run_dir, const ResumeFrom& resume) {
  if (resume.mode == ResumeFrom::Mode::None) return std::nullopt;
  if (resume.mode == ResumeFrom::Mode::Auto) return find_latest_committed(run_dir);
  const fs::path& path = resume.path;
  if (fs::exists(path / kCommitMarker) || parse_checkpoint_name(path.filename().string())) return CheckpointReader::open(path);
  if (fs::is_directory(checkpoints_dir(path))) {
    if (auto latest = find_latest_committed(path)) return latest;
    throw CheckpointError("run directory has no committed checkpoint", path.string(), "checkpoint.resume: none starts afresh");
  }
  throw CheckpointError("checkpoint.resume: no checkpoint directory or run directory here", path.string(),
                        "use auto, none, RUN/checkpoints/step-N or a run directory");
}

std::vector<fs::path> apply_retention(const fs::path& run_dir, int64_t keep_last, int64_t keep_every) {
  if (keep_last < 1 || keep_every < 0)
    throw CheckpointError("retention needs keep_last >= 1 and keep_every >= 0", "checkpoint.keep_last",
                          "the newest checkpoint is always kept");
  std::vector<CheckpointEntry> valid;
  for (const auto& entry : list_checkpoints(run_dir)) {
    try {
      CheckpointReader::open(entry.path);
      valid.push_back(entry);
    } catch (const core::Error&) {
      // Neither counted nor deleted: find_latest_committed warns about it when it matters.
    }
  }
  std::vector<fs::path> removed;
  const std::size_t n = valid.size();
  for (std::size_t i = 0; i < n; ++i) {
    const bool newest = i + static_cast<std::size_t>(std::min<int64_t>(keep_last, static_cast<int64_t>(n))) >= n;
    const bool milestone = keep_every > 0 && valid[i].step % keep_every == 0;
    if (newest || milestone) continue;
    const fs::path doomed = valid[i].path.string() + ".deleting";
    core::rename_durable(valid[i].path, doomed);  // no longer a candidate for resuming, atomically
    std::error_code ec;
    fs::remove_all(doomed, ec);
    if (ec) spdlog::warn("cannot remove {}: {} (the next save retries)", doomed.string(), ec.message());
    spdlog::info("checkpoint retention: removed {}", valid[i].path.string());
    removed.push_back(valid[i].path);
  }
  return removed;
}

}  // namespace ankh::checkpoints
