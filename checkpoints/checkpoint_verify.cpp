#include "checkpoints/checkpoint_verify.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <vector>

#include "checkpoints/checkpoint_dir.h"
#include "checkpoints/checksum.h"
#include "checkpoints/commit_marker.h"
#include "core/error.h"
#include "core/files.h"
#include "core/parallel_for.h"
#include "core/progress.h"

namespace ankh::checkpoints {

namespace fs = std::filesystem;

namespace {

struct FileCheck {
  fs::path path;
  FileDigest expected;
  // Result.
  std::string problem;
};

// A checkpoint's marker checked and its files queued; problems of the marker go to `report`.
void plan_checkpoint(const fs::path& dir, core::VerifyReport& report, std::vector<FileCheck>& files) {
  const fs::path marker_path = dir / kCommitMarker;
  if (!fs::exists(marker_path)) {
    report.add(dir.string(), std::string("not committed: no ") + kCommitMarker + " marker (a save that did not finish)");
    return;
  }
  CommitMarker marker;
  try {
    marker = CommitMarker::parse(core::read_file(marker_path), marker_path.string());
  } catch (const core::Error& e) {
    report.add(marker_path.string(), e.what_text());
    return;
  }
  ++report.files;
  if (marker.format_version < 1 || marker.format_version > kCheckpointFormatVersion)
    report.add(marker_path.string(), "checkpoint format version " + std::to_string(marker.format_version) +
                                         ", this build reads 1 to " + std::to_string(kCheckpointFormatVersion));
  if (const auto named = parse_checkpoint_name(dir.filename().string()); named && *named != marker.step)
    report.add(marker_path.string(), "the directory name says step " + std::to_string(*named) + ", the marker step " +
                                         std::to_string(marker.step));
  std::set<std::string> listed{kCommitMarker};
  for (const auto& [name, digest] : marker.files) {
    if (name.empty() || fs::path(name).filename().string() != name || name == "." || name == "..") {
      report.add(marker_path.string(), "lists an invalid file name '" + name + "'");
      continue;
    }
    listed.insert(name);
    files.push_back({dir / name, digest, {}});
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (!listed.count(entry.path().filename().string()))
      report.notes.push_back(entry.path().string() + ": not listed in the commit marker (not part of the checkpoint)");
}

// Reads one file whole: its size and XXH64 against the marker. Empty when they match.
std::string check_file(const FileCheck& f, std::atomic<uint64_t>& bytes_done) {
  try {
    const FileDigest actual = digest_file(f.path, &bytes_done);
    if (actual.bytes != f.expected.bytes)
      return "has " + std::to_string(actual.bytes) + " bytes, the commit marker records " + std::to_string(f.expected.bytes) +
             (actual.bytes < f.expected.bytes ? " (truncated)" : "");
    if (actual.xxh64 != f.expected.xxh64)
      return "XXH64 " + to_hex(actual.xxh64) + " differs from the commit marker's " + to_hex(f.expected.xxh64) +
             " (the bytes changed after the save)";
    return {};
  } catch (const core::Error& e) {
    return e.what_text();
  }
}

void check_files(std::vector<FileCheck>& files, const core::VerifyOptions& options, core::VerifyReport& report) {
  uint64_t total = 0;
  for (const auto& f : files) total += f.expected.bytes;
  std::unique_ptr<core::Progress> progress;
  if (options.progress)
    progress = std::make_unique<core::Progress>("verify", static_cast<int64_t>(files.size()), "files", static_cast<int64_t>(total));
  std::atomic<uint64_t> bytes_done{0};
  std::atomic<int64_t> files_done{0};
  int64_t shown_files = 0;
  uint64_t shown_bytes = 0;
  core::parallel_for(
      static_cast<int64_t>(files.size()), core::default_threads(options.threads),
      [&](int64_t i) {
        auto& f = files[static_cast<std::size_t>(i)];
        f.problem = check_file(f, bytes_done);
        ++files_done;
      },
      [&] {
        if (!progress) return;
        const int64_t files_now = files_done;
        const uint64_t bytes_now = bytes_done;
        progress->advance(files_now - shown_files, static_cast<int64_t>(bytes_now - shown_bytes));
        shown_files = files_now;
        shown_bytes = bytes_now;
      });
  if (progress) progress->finish();
  report.bytes += bytes_done;
  report.files += static_cast<int64_t>(files.size());
  for (const auto& f : files)
    if (!f.problem.empty()) report.add(f.path.string(), f.problem);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

core::VerifyReport verify_checkpoint(const fs::path& dir, const core::VerifyOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  core::VerifyReport report;
  report.kind = "checkpoint";
  std::vector<FileCheck> files;
  plan_checkpoint(dir, report, files);
  check_files(files, options, report);
  report.seconds = seconds_since(start);
  return report;
}

core::VerifyReport verify_run_checkpoints(const fs::path& run_dir, const core::VerifyOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  core::VerifyReport report;
  report.kind = "run";
  const fs::path dir = checkpoints_dir(run_dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    report.notes.push_back(dir.string() + ": none (the run has saved no checkpoint)");
    return report;
  }
  std::vector<FileCheck> files;
  int64_t checkpoints = 0;
  for (const auto& entry : list_checkpoints(run_dir)) {
    plan_checkpoint(entry.path, report, files);
    ++checkpoints;
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 4 && (name.rfind(".tmp") == name.size() - 4 || name.find(".deleting") != std::string::npos))
      report.notes.push_back(entry.path().string() + ": left by an interrupted save or deletion; the next save removes it");
  }
  report.notes.push_back(std::to_string(checkpoints) + " checkpoint" + (checkpoints == 1 ? "" : "s") + " in " + dir.string());
  check_files(files, options, report);
  report.seconds = seconds_since(start);
  return report;
}

}  // namespace ankh::checkpoints
