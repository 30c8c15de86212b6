// Checkpoint directories and their commit protocol (docs/architecture.md, "Checkpoints"):
//
//   RUN/checkpoints/step-00001000.tmp/   written here: model.safetensors, optimizer.safetensors,
//                                        state.json, config.yaml (each fsynced) ...
//                  step-00001000.tmp/COMMITTED   ... then the marker, written last: format
//                                        version, step, size and XXH64 of every other file ...
//   RUN/checkpoints/step-00001000/       ... then the directory is renamed and its parent fsynced.
//
// A directory without a valid marker is never loaded; a `.tmp` left by a crash is removed by the
// next save. The trainer drives a save like this (only rank 0 writes in data-parallel training,
// since every rank holds the same parameters):
//
//   auto w = CheckpointWriter::begin(run_dir, step);  // rank 0
//   w.write_tensors("model.safetensors", params);     // copies to CPU now, writes in background
//   w.write_json("state.json", state);
//   w.write_text("config.yaml", yaml);
//   ... training continues ...
//   w.wait();                                         // rank 0: files written and synced
//   barrier();                                        // every rank: all ranks done
//   w.commit();                                       // rank 0: marker, rename
//   apply_retention(run_dir, keep_last, keep_every);
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoints/checkpoint_config.h"
#include "checkpoints/safetensors.h"

namespace ankh::checkpoints {

// Version of the directory layout and marker. Readers refuse newer versions.
inline constexpr int kCheckpointFormatVersion = 1;
inline constexpr const char* kCommitMarker = "COMMITTED";

std::filesystem::path checkpoints_dir(const std::filesystem::path& run_dir);  // RUN/checkpoints
// RUN/checkpoints/step-00001000 (8 digits, more when the step needs them).
std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir, int64_t step);
// "step-00001000" -> 1000; nullopt for anything else (".tmp" directories included).
std::optional<int64_t> parse_checkpoint_name(std::string_view name);

// How much of a checkpoint open() checks: the marker and file sizes (cheap), or also every
// file's XXH64 (reads everything).
enum class Verify { kSizes, kChecksums };

// Reads `path` whole (sequentially) and returns its size and XXH64; adds the bytes read to
// `bytes_read` as it goes, when given (a progress bar on another thread). IoError on a read error.
FileDigest digest_file(const std::filesystem::path& path, std::atomic<uint64_t>* bytes_read = nullptr);

// Where the time of one save went: `snapshot_s` is what stalled the caller.
struct SaveStats {
  double snapshot_s = 0;  // copies to CPU inside write_tensors (synchronous)
  double write_s = 0;     // writing and syncing files (background when enabled)
  double commit_s = 0;    // marker, rename, fsyncs
  uint64_t bytes = 0;     // total size of the files
};

class CheckpointWriter {
 public:
  struct Options {
    bool background = true;  // write files on a background thread (otherwise inside each call)
  };

  // Starts the checkpoint of `step`: takes the run's checkpoint lock (one save at a time, also
  // across processes), removes `.tmp` directories left by interrupted saves, creates
  // `step-N.tmp/`. An existing step-N (a run resumed from an older step) is replaced at commit.
  static CheckpointWriter begin(const std::filesystem::path& run_dir, int64_t step, Options options);
  static CheckpointWriter begin(const std::filesystem::path& run_dir, int64_t step) { return begin(run_dir, step, Options{}); }

  // Not committed (an exception, say): waits for background work, removes the `.tmp` directory.
  ~CheckpointWriter();
  CheckpointWriter(CheckpointWriter&&) noexcept;
  CheckpointWriter& operator=(CheckpointWriter&&) noexcept;

  int64_t step() const;
  const std::filesystem::path& temp_dir() const;
  const std::filesystem::path& final_dir() const;

  // Each queues one file of the checkpoint (a plain file name, once each). write_tensors copies
  // the tensors to CPU before returning (the only part that stalls training), so the caller may
  // update them right away.
  void write_tensors(const std::string& file, const NamedTensors& tensors, const Metadata& metadata = {});
  void write_json(const std::string& file, const nlohmann::json& value);
  void write_text(const std::string& file, std::string text);

  // Blocks until every queued file is written and fsynced; rethrows the first failure.
  void wait();
  // True when every queued file is written (or failed: wait() then rethrows). Never blocks.
  bool finished() const;
  // wait(), then the commit marker, then the rename to step-N. Returns the final directory.
  std::filesystem::path commit();
  const SaveStats& stats() const;

 private:
  struct State;
  explicit CheckpointWriter(std::unique_ptr<State> state);
  void enqueue(std::string file, std::function<FileDigest()> job);
  std::unique_ptr<State> state_;
};

// A committed checkpoint, opened and checked (marker, format version, files and sizes; with
// Verify::kChecksums also every file's XXH64). CheckpointError naming the directory otherwise.
class CheckpointReader {
 public:
  static CheckpointReader open(const std::filesystem::path& dir, Verify verify = Verify::kSizes);

  const std::filesystem::path& dir() const { return dir_; }
  int64_t step() const { return step_; }
  int format_version() const { return format_version_; }
  std::vector<std::string> files() const;
  bool has(const std::string& file) const { return files_.count(file) != 0; }
  const FileDigest& digest(const std::string& file) const;

  // Reads a whole file and checks its XXH64 against the marker on the way.
  NamedTensors load_tensors(const std::string& file) const;
  nlohmann::json read_json(const std::string& file) const;
  std::string read_text(const std::string& file) const;
  // Lazy access to single tensors (validated header; data not checksummed).
  SafetensorsReader open_tensors(const std::string& file) const;
  // Reads every file and compares its XXH64 with the marker.
  void verify_checksums() const;

 private:
  std::filesystem::path path_of(const std::string& file) const;
  std::string read_verified(const std::string& file) const;

  std::filesystem::path dir_;
  int64_t step_ = 0;
  int format_version_ = 0;
  std::map<std::string, FileDigest> files_;
};

struct CheckpointEntry {
  int64_t step = 0;
  std::filesystem::path path;
  bool has_marker = false;  // committed (not yet checked further)
};
// The step-N directories of a run, by increasing step (no .tmp ones). Empty when there are none.
std::vector<CheckpointEntry> list_checkpoints(const std::filesystem::path& run_dir);

// The newest checkpoint of the run that opens cleanly and that `load` (when given) reads without a
// core::Error; older ones are tried when a newer one is uncommitted or damaged (each skip is
// logged as a warning). `load` is where callers read the files they need, so a checksum failure
// found while reading them (bit rot with the sizes intact) passes over to the next checkpoint
// too, without reading anything twice. nullopt when there is none.
std::optional<CheckpointReader> find_latest_committed(const std::filesystem::path& run_dir, Verify verify = Verify::kSizes,
                                                      const std::function<void(const CheckpointReader&)>& load = {});

// `checkpoint.resume`: none -> nullopt; auto -> find_latest_committed(run_dir) (nullopt when the
// run has none); a path: a checkpoint directory, or a run directory whose newest committed
// checkpoint is taken (CheckpointError when there is nothing to resume from there).
std::optional<CheckpointReader> resolve_resume(const std::filesystem::path& run_dir, const ResumeFrom& resume);

// Keeps the newest `keep_last` valid checkpoints plus those whose step is a multiple of
// `keep_every` (0: none), and deletes the other valid ones (renamed away first, so a crash midway
// never leaves a half-deleted directory that looks committed). Directories that do not open
// cleanly are neither counted nor deleted. Returns the deleted directories.
std::vector<std::filesystem::path> apply_retention(const std::filesystem::path& run_dir, int64_t keep_last, int64_t keep_every);

}  // namespace ankh::checkpoints
