#include "core/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace ankh::core {

int default_threads(int requested) {
  if (requested > 0) return requested;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

void parallel_for(int64_t n, int threads, const std::function<void(int64_t)>& piece, const std::function<void()>& tick) {
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mutex;
  std::condition_variable done_cv;
  int running = static_cast<int>(std::min<int64_t>(std::max(1, threads), std::max<int64_t>(n, 1)));
  auto work = [&] {
    for (int64_t i; !failed && (i = next++) < n;) {
      try {
        piece(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
    std::lock_guard<std::mutex> lock(mutex);
    --running;
    done_cv.notify_all();
  };
  std::vector<std::thread> pool;
  const int started = running;
  for (int t = 0; t < started; ++t) pool.emplace_back(work);
  {
    std::unique_lock<std::mutex> lock(mutex);
    while (!done_cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return running == 0; }))
      if (tick) {
        lock.unlock();
        tick();
        lock.lock();
      }
  }
  for (auto& t : pool) t.join();
  if (tick) tick();
  if (error) std::rethrow_exception(error);
}

}  // namespace ankh::core
