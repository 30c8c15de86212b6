#include "trainer/parallel/watchdog.h"

#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "core/strings.h"

namespace ankh::parallel {

namespace {

std::chrono::nanoseconds poll_period(const WatchdogOptions& o) {
  const double s = o.poll_s > 0 ? o.poll_s : std::clamp(o.timeout_s / 20, 0.005, 1.0);
  return std::chrono::nanoseconds(static_cast<int64_t>(s * 1e9));
}

}  // namespace

void abort_job(const std::string& message) {
  spdlog::error("{}", message);
  spdlog::default_logger()->flush();
  std::fflush(stderr);
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, kWatchdogExitCode);
  std::_Exit(kWatchdogExitCode);
}

Watchdog::Watchdog(WatchdogOptions options) : options_(std::move(options)), poll_(poll_period(options_)) {
  if (!options_.on_timeout) options_.on_timeout = [](const std::string& m) { abort_job(m); };
  thread_ = std::thread([this] { run(); });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

uint64_t Watchdog::start(std::string label, std::function<bool()> completed) {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t id = next_id_++;
  entries_.emplace(id, Entry{std::move(label), Clock::now(), std::move(completed)});
  return id;
}

void Watchdog::done(uint64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.erase(id);
}

std::size_t Watchdog::in_flight() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

bool Watchdog::fired() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return fired_;
}

std::string Watchdog::check(Clock::time_point now) {
  const auto timeout = std::chrono::duration<double>(options_.timeout_s);
  const Entry* oldest = nullptr;
  for (auto it = entries_.begin(); it != entries_.end();) {
    // Polling a CUDA event never blocks; an entry that completed on the device is forgotten.
    if (it->second.completed && it->second.completed()) {
      it = entries_.erase(it);
      continue;
    }
    if (!oldest || it->second.since < oldest->since) oldest = &it->second;
    ++it;
  }
  if (oldest && now - oldest->since > timeout) {
    const double age = std::chrono::duration<double>(now - oldest->since).count();
    return "dist watchdog: collective '" + oldest->label + "' on the " + options_.name +
           " communicator has been in flight for " + fmt::format("{:.1f}", age) +
           " s (dist.timeout_s = " + core::format_double(options_.timeout_s) + " s; " +
           std::to_string(entries_.size()) +
           " collective(s) in flight): another rank is probably dead or stuck. Aborting the job.\n"
           "  hint: look for the first error in the other ranks' logs (RUN/logs/rank-N.log); a rank that "
           "never reaches this collective (crashed, hung reading data, or running a different number of "
           "steps) stops all the others";
  }
  if (options_.health_check) {
    std::string problem = options_.health_check();
    if (!problem.empty())
      return "dist watchdog: the " + options_.name + " communicator failed: " + problem + ". Aborting the job.";
  }
  return {};
}

void Watchdog::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, poll_, [this] { return stop_; });
    if (stop_ || fired_) continue;
    std::string message = check(Clock::now());
    if (message.empty()) continue;
    fired_ = true;
    lock.unlock();  // the handler may log, call into NCCL/MPI, or (in tests) return
    fire(message);
    lock.lock();
  }
}

void Watchdog::fire(const std::string& message) {
  try {
    if (options_.before_abort) options_.before_abort();
  } catch (const std::exception& e) {
    spdlog::error("dist watchdog: aborting the {} communicator failed: {}", options_.name, e.what());
  }
  options_.on_timeout(message);
}

}  // namespace ankh::parallel
