// Ownership of a directory by one job (docs/architecture.md, "Run ownership"): an exclusive
// flock(2) on DIR/ankh.lock, taken before anything else is written into DIR and held until the
// process exits. The file holds a record of its holder (host, PID, start time, command), so that a
// second job can say who is in the way. The kernel drops the lock when its holder dies however it
// dies, so a later job simply takes it; a record still present then (a clean exit clears it) tells
// that the previous holder was killed or crashed, and is reported as replaced.
//
// The file is never deleted: removing a lock file while another process has it open lets two
// processes lock two different files of the same name. The descriptor is close-on-exec, so child
// processes (sweep runs, BLAST, plot scripts) never keep the lock alive after their parent.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/file_descriptor.h"

namespace ankh::core {

inline constexpr const char* kDirLockFile = "ankh.lock";

// What a lock file says about its holder.
struct LockRecord {
  std::string host;
  long pid = 0;
  std::string started;    // when it took the lock, "2024-05-01 12:00:00 UTC"
  std::string command;    // "ankh train", "ankh sweep"
  std::string slurm_job;  // SLURM_JOB_ID of the holder, when it ran under Slurm

  // "ankh train on host node01, PID 4242, started 2024-05-01 12:00:00 UTC (Slurm job 17)"
  std::string describe() const;
  std::string to_text() const;
  // Parses to_text()'s lines; nullopt for an empty or unreadable record.
  static std::optional<LockRecord> parse(const std::string& text);
  // This process, now.
  static LockRecord current(const std::string& command);
};

class DirLock {
 public:
  // Creates `dir` when missing and takes its lock for `command`. Throws IoError naming the
  // holder (from its record) when another process holds it; `dir_option` names the setting that
  // chose the directory ("run.dir", "--output"), for the hint. Where the file system has no
  // flock, logs a warning and returns a lock that guards nothing (enforced() false). A record
  // left by a holder that died is logged as replaced (stale()).
  static DirLock acquire(const std::filesystem::path& dir, const std::string& command, const std::string& dir_option);

  DirLock(DirLock&&) noexcept = default;
  DirLock& operator=(DirLock&&) = delete;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  // Clears the record; closing the descriptor then releases the lock.
  ~DirLock();

  const std::filesystem::path& path() const { return path_; }
  bool enforced() const { return enforced_; }
  const std::optional<LockRecord>& stale() const { return stale_; }

 private:
  DirLock() = default;
  std::filesystem::path path_;
  FileDescriptor fd_;
  bool enforced_ = false;
  bool recorded_ = false;  // the record is ours to clear (never a holder's we failed to displace)
  std::optional<LockRecord> stale_;
};

}  // namespace ankh::core
