// A watchdog thread for collective communication. Every in-flight collective is registered with
// a label; one that stays in flight longer than `dist.timeout_s` means another rank is dead or
// stuck, and waiting longer only hides that: the watchdog logs which collective and for how long,
// then (by default) aborts the communicator and the whole MPI job, so that the job exits instead
// of hanging until the batch system kills it. Modelled on nccl-tests' and ProcessGroupNCCL's.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace ankh::parallel {

// The exit status of a job the watchdog aborted (like `timeout`).
inline constexpr int kWatchdogExitCode = 124;

struct WatchdogOptions {
  std::string name = "communicator";  // names the communicator in messages ("mpi", "nccl")
  double timeout_s = 600;             // dist.timeout_s
  double poll_s = 0;                  // how often to look; 0: timeout/20, within [5 ms, 1 s]
  // Called once, from the watchdog thread, with the error message. Default: abort_job().
  std::function<void(const std::string& message)> on_timeout;
  // Called before on_timeout (e.g. ncclCommAbort, so that kernels stuck on the GPU let go).
  std::function<void()> before_abort;
  // Polled every tick; a non-empty result is an asynchronous communicator error (NCCL's
  // ncclCommGetAsyncError), handled like a timeout.
  std::function<std::string()> health_check;
};

class Watchdog {
 public:
  explicit Watchdog(WatchdogOptions options);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Registers an in-flight collective and returns its id for done(). When `completed` is given
  // the watchdog polls it and drops the entry once it returns true (a GPU collective completes
  // without the host being told).
  uint64_t start(std::string label, std::function<bool()> completed = {});
  void done(uint64_t id);

  std::size_t in_flight() const;
  double timeout_s() const { return options_.timeout_s; }
  // True once the watchdog has fired (tests; on_timeout normally does not return).
  bool fired() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    std::string label;
    Clock::time_point since;
    std::function<bool()> completed;
  };

  void run();
  // One look at every entry; returns the error message when something is stuck or broken.
  std::string check(Clock::time_point now);
  void fire(const std::string& message);

  WatchdogOptions options_;
  std::chrono::nanoseconds poll_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<uint64_t, Entry> entries_;
  uint64_t next_id_ = 1;
  bool stop_ = false;
  bool fired_ = false;
  std::thread thread_;
};

// Logs `message` as an error, flushes the logs and aborts every rank of the MPI job with
// kWatchdogExitCode (exits the process when MPI is not running).
[[noreturn]] void abort_job(const std::string& message);

}  // namespace ankh::parallel
