#include "core/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sstream>

#include <spdlog/spdlog.h>

#include "core/error.h"

namespace ankh::core {

namespace fs = std::filesystem;

namespace {

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

// The whole file from offset 0 (small); empty when it cannot be read.
std::string read_all(int fd) {
  std::string text;
  char buf[4096];
  for (off_t offset = 0;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    offset += n;
    if (text.size() > 65536) break;  // not a record of ours
  }
  return text;
}

// Replaces the file's contents with `text`. Failures are only logged: the lock is what matters,
// the record is for messages.
void write_record(int fd, const std::string& text, const fs::path& path) {
  bool ok = ::ftruncate(fd, 0) == 0;
  for (std::size_t done = 0; ok && done < text.size();) {
    const ssize_t n = ::pwrite(fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  // Other hosts of a shared file system see the record once it is synced.
  if (ok) ok = ::fsync(fd) == 0;
  if (!ok) spdlog::warn("cannot write the lock record {}: {} (the lock itself is held)", path.string(), std::strerror(errno));
}

}  // namespace

std::string LockRecord::describe() const {
  std::string s = (command.empty() ? std::string("a process") : command) + " on host " + host + ", PID " +
                  std::to_string(pid) + ", started " + started;
  if (!slurm_job.empty()) s += " (Slurm job " + slurm_job + ")";
  return s;
}

std::string LockRecord::to_text() const {
  std::string s = "host: " + host + "\npid: " + std::to_string(pid) + "\nstarted: " + started + "\ncommand: " + command + "\n";
  if (!slurm_job.empty()) s += "slurm_job: " + slurm_job + "\n";
  return s;
}

std::optional<LockRecord> LockRecord::parse(const std::string& text) {
  LockRecord r;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(": ");
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, colon), value = line.substr(colon + 2);
    if (key == "host") r.host = value;
    else if (key == "pid") r.pid = std::strtol(value.c_str(), nullptr, 10);
    else if (key == "started") r.started = value;
    else if (key == "command") r.command = value;
    else if (key == "slurm_job") r.slurm_job = value;
  }
  if (r.host.empty() || r.pid <= 0) return std::nullopt;
  return r;
}

LockRecord LockRecord::current(const std::string& command) {
  LockRecord r;
  r.host = host_name();
  r.pid = static_cast<long>(::getpid());
  r.started = utc_now();
  r.command = command;
  if (const char* job = std::getenv("SLURM_JOB_ID")) r.slurm_job = job;
  return r;
}

DirLock DirLock::acquire(const fs::path& dir, const std::string& command, const std::string& dir_option) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError("cannot create the directory: " + ec.message(), dir.string());
  DirLock lock;
  lock.path_ = dir / kDirLockFile;
  lock.fd_ = FileDescriptor::open(lock.path_, O_RDWR | O_CREAT);  // close-on-exec
  int rc;
  do rc = ::flock(lock.fd_.get(), LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  const int err = rc == 0 ? 0 : errno;
  if (err == EWOULDBLOCK) {
    const auto holder = LockRecord::parse(read_all(lock.fd_.get()));
    throw IoError(dir.string() + " is in use by another job: " +
                      (holder ? holder->describe() : "a process that left no record (starting this moment, or not ankh)"),
                  lock.path_.string(),
                  "one job per directory: wait for that job to end, stop it" +
                      (holder ? " (on " + holder->host + ": kill " + std::to_string(holder->pid) + ")" : std::string()) +
                      ", or give this one another " + dir_option +
                      ". The lock goes away with its holder, even a killed one; never delete the file by hand");
  }
  if (err != 0) {
    // Some network file systems (or their mount options) have no flock: work, but unguarded.
    spdlog::warn("the file system of {} has no flock ({}): nothing stops a second job from using this directory at "
                 "the same time; make sure only one does",
                 dir.string(), std::strerror(err));
  }
  lock.enforced_ = err == 0;
  lock.stale_ = LockRecord::parse(read_all(lock.fd_.get()));
  if (lock.stale_ && lock.enforced_)
    spdlog::warn("took over {}: its lock record says {}, which ended without releasing it (killed, crashed, or its node "
                 "failed); record replaced",
                 dir.string(), lock.stale_->describe());
  else if (lock.stale_)
    spdlog::warn("{}'s lock record names {}: if that job still runs, stop one of the two", dir.string(),
                 lock.stale_->describe());
  write_record(lock.fd_.get(), LockRecord::current(command).to_text(), lock.path_);
  lock.recorded_ = true;
  return lock;
}

DirLock::~DirLock() {
  // A clean exit leaves an empty file, so that a record found later means its holder died.
  if (recorded_ && fd_.valid() && ::ftruncate(fd_.get(), 0) != 0)
    spdlog::debug("cannot clear the lock record {}: {}", path_.string(), std::strerror(errno));
}

}  // namespace ankh::core
