// The watchdog and the communication thread, in one process: a stuck collective is reported with
// its label, finished or completed ones are not, asynchronous errors are; tasks run in order,
// make progress without the submitter, and report their exceptions.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "core/error.h"
#include "trainer/parallel/serial_executor.h"
#include "trainer/parallel/watchdog.h"

using namespace ankh::parallel;
using namespace std::chrono_literals;

namespace {

// A watchdog whose timeout handler records the message instead of aborting the process.
struct Recorded {
  std::promise<std::string> message;
  std::atomic<int> calls{0};
  std::atomic<bool> aborted_first{false};
  std::atomic<bool> before_abort_called{false};
};

WatchdogOptions recording(Recorded& r, double timeout_s) {
  WatchdogOptions o;
  o.name = "test";
  o.timeout_s = timeout_s;
  o.before_abort = [&r] { r.before_abort_called = true; };
  o.on_timeout = [&r](const std::string& m) {
    r.aborted_first = r.before_abort_called.load();
    if (r.calls++ == 0) r.message.set_value(m);
  };
  return o;
}

}  // namespace

TEST(Watchdog, NamesTheStuckCollectiveAndAbortsOnce) {
  Recorded r;
  auto future = r.message.get_future();
  Watchdog w(recording(r, 0.05));
  w.start("grad bucket 3/7 (24.0 MiB)");
  ASSERT_EQ(future.wait_for(60s), std::future_status::ready) << "the watchdog never fired";
  const std::string m = future.get();
  EXPECT_NE(m.find("grad bucket 3/7 (24.0 MiB)"), std::string::npos) << m;
  EXPECT_NE(m.find("test communicator"), std::string::npos) << m;
  EXPECT_NE(m.find("dist.timeout_s = 0.05"), std::string::npos) << m;
  EXPECT_TRUE(r.aborted_first) << "before_abort must run before on_timeout";
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(r.calls.load(), 1);
  EXPECT_TRUE(w.fired());
}

TEST(Watchdog, FinishedAndCompletedCollectivesAreForgotten) {
  Recorded r;
  Watchdog w(recording(r, 0.05));
  const uint64_t id = w.start("quick");
  w.done(id);
  std::atomic<bool> complete{false};
  w.start("on the device", [&complete] { return complete.load(); });
  EXPECT_EQ(w.in_flight(), 1u);
  complete = true;
  // Polled away by the watchdog thread, well before anything could time out again.
  for (int i = 0; i < 6000 && w.in_flight() > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(w.in_flight(), 0u);
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(w.fired());
  EXPECT_EQ(r.calls.load(), 0);
}

TEST(Watchdog, AnAsynchronousErrorAbortsLikeATimeout) {
  Recorded r;
  auto future = r.message.get_future();
  WatchdogOptions o = recording(r, 1000);
  o.health_check = [] { return std::string("remote process exited"); };
  Watchdog w(std::move(o));
  ASSERT_EQ(future.wait_for(60s), std::future_status::ready);
  EXPECT_NE(future.get().find("remote process exited"), std::string::npos);
}

TEST(SerialExecutor, RunsTasksInSubmissionOrder) {
  std::vector<int> order;
  std::vector<std::shared_ptr<Completion>> done;
  {
    SerialExecutor ex("test");
    for (int i = 0; i < 100; ++i) done.push_back(ex.submit([&order, i] { order.push_back(i); }));
    done.back()->wait();
  }
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
  for (auto& d : done) EXPECT_TRUE(d->done());
}

TEST(SerialExecutor, ProgressesWhileTheSubmitterKeepsWorking) {
  SerialExecutor ex("test");
  std::atomic<bool> ran{false};
  auto done = ex.submit([&ran] { ran = true; });
  // The submitter never calls into the executor again: the task still completes.
  volatile double sink = 0;
  for (int i = 0; i < 600000 && !done->done(); ++i) {
    sink = sink + 1.0;
    if (i % 1000 == 0) std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(done->done());
  EXPECT_TRUE(ran.load());
}

TEST(SerialExecutor, WaitRethrowsTheTasksError) {
  SerialExecutor ex("test");
  auto failed = ex.submit([] { throw ankh::core::DistError("MPI_Allreduce failed"); });
  auto next = ex.submit([] {});
  EXPECT_THROW(failed->wait(), ankh::core::DistError);
  EXPECT_NO_THROW(next->wait());  // one failure does not stop the queue
}
