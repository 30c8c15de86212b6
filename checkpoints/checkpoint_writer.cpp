// CheckpointWriter: the save half of checkpoint_dir.h. Files are written by one background
// thread in the order they were queued; the caller only pays for copying tensors to CPU.
// A save that fails (a full disk, any write error) removes its step-N.tmp/ at once, so that the
// rest of the run still has room while the error travels to the next step boundary, and reports
// how much space the checkpoint needs beside what the file system has.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "checkpoints/checkpoint_dir.h"
#include "checkpoints/commit_marker.h"
#include "core/file_descriptor.h"
#include "core/error.h"
#include "core/files.h"
#include "core/strings.h"
#include "core/timer.h"

namespace ankh::checkpoints {

namespace fs = std::filesystem;
using core::CheckpointError;

namespace {

// An exclusive flock on RUN/checkpoints/.lock for the lifetime of a save: two saves into the same
// run (two jobs given the same run.dir, or a save started before the previous one committed)
// would otherwise remove each other's .tmp directories.
class RunLock {
 public:
  explicit RunLock(const fs::path& dir) {
    const fs::path path = dir / ".lock";
    fd_ = core::FileDescriptor::open(path, O_RDWR | O_CREAT);
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      if (err == EWOULDBLOCK) {
        throw CheckpointError("another checkpoint of this run is being written", path.string(),
                              "a save must commit before the next begins; is another job using the same run.dir?");
      }
      // Some network file systems have no flock: saving still works, only unguarded.
      spdlog::debug("checkpoint lock unavailable on {} ({}); continuing without it", path.string(), std::strerror(err));
    }
  }
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  core::FileDescriptor fd_;  // closing it (with the lock) releases the flock
};

bool is_stale_temp(const std::string& name) {
  for (const char* suffix : {".tmp", ".deleting"}) {
    if (core::ends_with(name, suffix) &&
        parse_checkpoint_name(std::string_view(name).substr(0, name.size() - std::strlen(suffix))))
      return true;
  }
  return false;
}

void remove_stale_temps(const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || !is_stale_temp(name)) continue;
    spdlog::warn("removing {}: left by an interrupted checkpoint save or deletion", entry.path().string());
    fs::remove_all(entry.path());
  }
}

}  // namespace

struct CheckpointWriter::State {
  fs::path run_dir, temp_dir, final_dir;
  int64_t step = 0;
  Options options;
  std::unique_ptr<RunLock> lock;
  std::set<std::string> queued;  // file names, to refuse duplicates
  bool committed = false;
  uint64_t expected_bytes = 0;   // what the queued files will take (headers estimated)

  // Shared with the worker thread, under `mu`.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<std::string, std::function<FileDigest()>>> jobs;
  bool busy = false, stopping = false;
  std::map<std::string, FileDigest> digests;
  std::exception_ptr error;
  SaveStats stats;
  std::thread worker;

  void run_job(const std::string& file, const std::function<FileDigest()>& job) {
    core::Stopwatch sw;
    try {
      const FileDigest d = job();
      std::lock_guard<std::mutex> g(mu);
      digests[file] = d;
      stats.bytes += d.bytes;
      stats.write_s += sw.seconds();
    } catch (...) {
      const std::exception_ptr failure = failed_save(std::current_exception());
      std::lock_guard<std::mutex> g(mu);
      if (error) return;
      error = failure;  // the later files are skipped
    }
  }

  // The error a failed save reports: what failed and where (the file), and how much space the
  // checkpoint needs beside what the file system has once this save's files are gone.
  std::exception_ptr failed_save(std::exception_ptr cause) const {
    std::string what, where = temp_dir.string(), hint;
    try {
      std::rethrow_exception(cause);
    } catch (const core::Error& e) {
      what = e.what_text();
      if (!e.where().empty()) where = e.where();
      hint = e.hint();
    } catch (const std::exception& e) {
      what = e.what();
    }
    // Whatever this save has written goes now, not when the error reaches the caller: the disk
    // may be full, and the run's logs and metrics need room until then.
    std::error_code ec;
    fs::remove_all(temp_dir, ec);
    const fs::space_info space = fs::space(temp_dir.parent_path(), ec);
    const uint64_t needed = expected_bytes;
    std::string sizes = "the checkpoint needs about " + core::format_bytes(static_cast<double>(needed));
    if (!ec) {
      sizes += " and the file system of " + temp_dir.parent_path().string() + " has " +
               core::format_bytes(static_cast<double>(space.available)) + " free";
      if (space.available < needed) {
        hint = "free at least " + core::format_bytes(static_cast<double>(needed - space.available)) +
               " there, or move run.dir to a larger disk; then run the same command again: it resumes from the newest "
               "committed checkpoint, which this failed save left intact (" + temp_dir.filename().string() +
               " was removed)";
      }
    }
    if (hint.empty())
      hint = "the earlier checkpoints are intact and " + temp_dir.filename().string() +
             " was removed; fix the cause and run the same command again to resume from the newest committed one";
    return std::make_exception_ptr(CheckpointError(
        "saving checkpoint " + final_dir.filename().string() + " failed: " + what + "; " + sizes, where, hint));
  }

  void worker_loop() {
    std::unique_lock<std::mutex> lk(mu);
    for (;;) {
      cv.wait(lk, [&] { return stopping || !jobs.empty(); });
      if (jobs.empty()) return;  // stopping, nothing left
      auto [file, job] = std::move(jobs.front());
      jobs.pop_front();
      busy = true;
      const bool skip = error != nullptr || stopping;  // after a failure the save is lost anyway
      lk.unlock();
      if (!skip) run_job(file, job);
      lk.lock();
      busy = false;
      cv.notify_all();
    }
  }

  void stop_worker() {
    {
      std::lock_guard<std::mutex> g(mu);
      stopping = true;
    }
    cv.notify_all();
    if (worker.joinable()) worker.join();
  }

  ~State() { stop_worker(); }
};

CheckpointWriter::CheckpointWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
CheckpointWriter::CheckpointWriter(CheckpointWriter&&) noexcept = default;

CheckpointWriter& CheckpointWriter::operator=(CheckpointWriter&& other) noexcept {
  if (this != &other) {
    CheckpointWriter discard(std::move(*this));  // abandons our own save, if any
    state_ = std::move(other.state_);
  }
  return *this;
}

CheckpointWriter::~CheckpointWriter() {
  if (!state_ || state_->committed) return;
  state_->stop_worker();
  std::error_code ec;
  fs::remove_all(state_->temp_dir, ec);
  spdlog::warn("checkpoint of step {} abandoned before its commit; {} removed", state_->step, state_->temp_dir.string());
}

CheckpointWriter CheckpointWriter::begin(const fs::path& run_dir, int64_t step, Options options) {
  if (step < 0) throw CheckpointError("negative step " + std::to_string(step), run_dir.string());
  auto s = std::make_unique<State>();
  s->run_dir = run_dir;
  s->step = step;
  s->options = options;
  s->final_dir = checkpoint_path(run_dir, step);
  s->temp_dir = s->final_dir.string() + ".tmp";
  const fs::path parent = checkpoints_dir(run_dir);
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw core::IoError("cannot create the checkpoint directory: " + ec.message(), parent.string());
  s->lock = std::make_unique<RunLock>(parent);
  // A run resumed from an older checkpoint reaches steps it saved before: the new save replaces
  // the old one, but only at commit (until then the old one stays loadable).
  if (fs::exists(s->final_dir))
    spdlog::warn("{} exists: the checkpoint being saved replaces it when committed", s->final_dir.string());
  remove_stale_temps(parent);
  fs::create_directory(s->temp_dir, ec);
  if (ec) throw core::IoError("cannot create the checkpoint directory: " + ec.message(), s->temp_dir.string());
  if (options.background) s->worker = std::thread([st = s.get()] { st->worker_loop(); });
  return CheckpointWriter(std::move(s));
}

int64_t CheckpointWriter::step() const { return state_->step; }
const fs::path& CheckpointWriter::temp_dir() const { return state_->temp_dir; }
const fs::path& CheckpointWriter::final_dir() const { return state_->final_dir; }
const SaveStats& CheckpointWriter::stats() const { return state_->stats; }

bool CheckpointWriter::finished() const {
  State& s = *state_;
  std::lock_guard<std::mutex> g(s.mu);
  return s.jobs.empty() && !s.busy;
}

void CheckpointWriter::enqueue(std::string file, std::function<FileDigest()> job) {
  State& s = *state_;
  if (s.options.background) {
    {
      std::lock_guard<std::mutex> g(s.mu);
      s.jobs.emplace_back(std::move(file), std::move(job));
    }
    s.cv.notify_all();
  } else {
    s.run_job(file, job);
    wait();  // surfaces a failure right away
  }
}

namespace {
void check_file_name(const std::string& file, const std::set<std::string>& queued, const fs::path& dir, bool committed) {
  if (committed) throw CheckpointError("checkpoint already committed; cannot add '" + file + "'", dir.string());
  if (file.empty() || file == kCommitMarker || file.find('/') != std::string::npos || file == "." || file == ".." ||
      core::ends_with(file, ".lock"))
    throw CheckpointError("invalid checkpoint file name '" + file + "'", dir.string(), "a plain file name such as model.safetensors");
  if (queued.count(file)) throw CheckpointError("file '" + file + "' written twice in one checkpoint", dir.string());
}
}  // namespace

void CheckpointWriter::write_tensors(const std::string& file, const NamedTensors& tensors, const Metadata& metadata) {
  State& s = *state_;
  check_file_name(file, s.queued, s.temp_dir, s.committed);
  s.queued.insert(file);
  fs::path path = s.temp_dir / file;
  s.expected_bytes += 8 + 128;  // length and header (about 100 bytes of JSON per tensor)
  for (const auto& [name, t] : tensors)
    s.expected_bytes += 128 + static_cast<uint64_t>(t.numel()) * static_cast<uint64_t>(t.element_size());
  if (!s.options.background) {
    enqueue(file, [path, &tensors, metadata] { return write_safetensors(path, tensors, metadata); });
    return;
  }
  core::Stopwatch sw;
  NamedTensors snapshot = snapshot_to_cpu(tensors);
  {
    std::lock_guard<std::mutex> g(s.mu);
    s.stats.snapshot_s += sw.seconds();
  }
  enqueue(file, [path, snapshot = std::move(snapshot), metadata] { return write_safetensors(path, snapshot, metadata); });
}

void CheckpointWriter::write_text(const std::string& file, std::string text) {
  State& s = *state_;
  check_file_name(file, s.queued, s.temp_dir, s.committed);
  s.queued.insert(file);
  s.expected_bytes += text.size();
  enqueue(file, [path = s.temp_dir / file, text = std::move(text)] {
    core::write_file_atomic(path, text);
    return FileDigest{text.size(), xxh64(text)};
  });
}

void CheckpointWriter::write_json(const std::string& file, const nlohmann::json& value) {
  write_text(file, value.dump(2) + "\n");
}

void CheckpointWriter::wait() {
  State& s = *state_;
  std::unique_lock<std::mutex> lk(s.mu);
  s.cv.wait(lk, [&] { return s.jobs.empty() && !s.busy; });
  if (s.error) std::rethrow_exception(s.error);
}

fs::path CheckpointWriter::commit() {
  State& s = *state_;
  if (s.committed) return s.final_dir;
  wait();
  core::Stopwatch sw;
  CommitMarker marker;
  marker.format_version = kCheckpointFormatVersion;
  marker.step = s.step;
  {
    std::lock_guard<std::mutex> g(s.mu);
    marker.files = s.digests;
  }
  try {
    core::fsync_path(s.temp_dir);  // every file's directory entry is durable before the marker
    core::write_file_atomic(s.temp_dir / kCommitMarker, marker.to_json());
  } catch (const core::Error&) {
    std::rethrow_exception(s.failed_save(std::current_exception()));  // a full disk, even for the marker
  }
  if (fs::exists(s.final_dir)) {
    // Renamed away first: a crash in between leaves the older checkpoints and this .tmp, never a
    // mixture. The next save removes the leftovers.
    const fs::path old = s.final_dir.string() + ".deleting";
    std::error_code ec;
    fs::remove_all(old, ec);
    core::rename_durable(s.final_dir, old);
    core::rename_durable(s.temp_dir, s.final_dir);
    fs::remove_all(old, ec);
  } else {
    core::rename_durable(s.temp_dir, s.final_dir);
  }
  s.committed = true;
  s.stop_worker();
  s.lock.reset();
  s.stats.commit_s = sw.seconds();
  spdlog::info("checkpoint saved: {} ({}; copy {:.2f} s, write {:.2f} s, commit {:.2f} s)", s.final_dir.string(),
               core::format_bytes(static_cast<double>(s.stats.bytes)), s.stats.snapshot_s, s.stats.write_s, s.stats.commit_s);
  return s.final_dir;
}

}  // namespace ankh::checkpoints
