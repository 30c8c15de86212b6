// One thread that runs submitted tasks one after another, in submission order. MpiCommunicator
// runs every collective on it: Open MPI makes no progress on a non-blocking collective unless
// some thread calls into MPI, so "asynchronous" means a thread of our own blocked in the
// collective while the caller computes. Submission order is issue order, which every rank
// shares, as MPI requires for collectives on one communicator.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace ankh::parallel {

// The outcome of one task: waited on by the submitter, set by the executor thread.
class Completion {
 public:
  // Blocks until the task ran; rethrows what it threw.
  void wait();
  bool done() const;

  void set(std::exception_ptr error);

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::exception_ptr error_;
};

class SerialExecutor {
 public:
  explicit SerialExecutor(std::string name);
  // Runs the tasks still queued, then joins. While an exception unwinds the stack (another rank
  // died, the job is about to be aborted) a task may be blocked forever in a collective: then the
  // thread is detached instead, and what it still holds stays alive with it.
  ~SerialExecutor();
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;

  std::shared_ptr<Completion> submit(std::function<void()> task);

 private:
  struct Queue {
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<std::pair<std::function<void()>, std::shared_ptr<Completion>>> tasks;
    bool stop = false;     // run what is queued, then return
    bool abandon = false;  // return at once, dropping what is queued
  };
  static void run(const std::shared_ptr<Queue>& queue);

  std::shared_ptr<Queue> queue_;
  std::thread thread_;
};

}  // namespace ankh::parallel
