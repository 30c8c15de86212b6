#include "trainer/parallel/serial_executor.h"

#include <pthread.h>

namespace ankh::parallel {

void Completion::wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [this] { return done_; });
  if (error_) std::rethrow_exception(error_);
}

bool Completion::done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return done_;
}

void Completion::set(std::exception_ptr error) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
    error_ = std::move(error);
  }
  cv_.notify_all();
}

SerialExecutor::SerialExecutor(std::string name) : queue_(std::make_shared<Queue>()) {
  thread_ = std::thread([queue = queue_] { run(queue); });
  // Shows up in top -H and debuggers (at most 15 characters).
  pthread_setname_np(thread_.native_handle(), name.substr(0, 15).c_str());
}

SerialExecutor::~SerialExecutor() {
  const bool unwinding = std::uncaught_exceptions() > 0;
  {
    std::lock_guard<std::mutex> lock(queue_->mutex);
    queue_->stop = true;
    queue_->abandon = unwinding;
  }
  queue_->cv.notify_all();
  if (unwinding)
    thread_.detach();
  else
    thread_.join();
}

std::shared_ptr<Completion> SerialExecutor::submit(std::function<void()> task) {
  auto completion = std::make_shared<Completion>();
  {
    std::lock_guard<std::mutex> lock(queue_->mutex);
    queue_->tasks.emplace_back(std::move(task), completion);
  }
  queue_->cv.notify_one();
  return completion;
}

void SerialExecutor::run(const std::shared_ptr<Queue>& queue) {
  for (;;) {
    std::function<void()> task;
    std::shared_ptr<Completion> completion;
    {
      std::unique_lock<std::mutex> lock(queue->mutex);
      queue->cv.wait(lock, [&] { return queue->stop || !queue->tasks.empty(); });
      if (queue->abandon || queue->tasks.empty()) return;  // abandoned, or stopped and drained
      task = std::move(queue->tasks.front().first);
      completion = std::move(queue->tasks.front().second);
      queue->tasks.pop_front();
    }
    std::exception_ptr error;
    try {
      task();
    } catch (...) {
      error = std::current_exception();
    }
    task = nullptr;  // release what the task captured (tensors) before anyone is told
    completion->set(error);
  }
}

}  // namespace ankh::parallel
