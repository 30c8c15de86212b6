// The MPI communicator: collectives over a private duplicate of MPI_COMM_WORLD. Tensors live on
// the communicator's device; on a GPU each collective goes through host memory (the MPI we build
// against is not CUDA-aware), which is slow but lets ranks share one GPU, where NCCL refuses.
// Every collective, synchronous or not, runs on one communication thread in issue order (see
// serial_executor.h): all_reduce_async returns at once and the reduction progresses while the
// caller keeps computing, which is what lets gradient buckets overlap the backward pass.
// A watchdog aborts the job when a collective runs longer than the timeout.
#pragma once

#include <mpi.h>

#include <memory>
#include <mutex>

#include "trainer/parallel/communicator.h"
#include "trainer/parallel/serial_executor.h"
#include "trainer/parallel/watchdog.h"

namespace ankh::parallel {

class MpiCommunicator final : public Communicator {
 public:
  // Collective over `parent` (every rank must construct it). `watchdog.name` is set to "mpi".
  MpiCommunicator(MPI_Comm parent, WatchdogOptions watchdog, torch::Device device = torch::kCPU);
  ~MpiCommunicator() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "mpi"; }
  torch::Device device() const override { return device_; }

  std::unique_ptr<Work> all_reduce_async(torch::Tensor& tensor, ReduceOp op = ReduceOp::Sum,
                                         const std::string& label = "all_reduce") override;
  void all_reduce(torch::Tensor& tensor, ReduceOp op = ReduceOp::Sum) override;
  void broadcast(torch::Tensor& tensor, int root) override;
  void all_gather(const torch::Tensor& input, torch::Tensor& output) override;
  void barrier() override;

  const Watchdog& watchdog() const { return *watchdog_; }

 private:
  // Queues `body` on the communication thread, registered with the watchdog while it runs.
  std::shared_ptr<Completion> submit(const std::string& label, std::function<void(MPI_Comm)> body);

  MPI_Comm comm_ = MPI_COMM_NULL;
  torch::Device device_;
  int rank_ = 0, size_ = 1;
  std::mutex issue_mutex_;  // autograd threads may issue too; keeps sequence numbers in order
  uint64_t sequence_ = 0;
  // Shared with queued tasks, which may outlive this object on a detached thread (see
  // SerialExecutor); declared before the executor so that it is destroyed after it.
  std::shared_ptr<Watchdog> watchdog_;
  std::unique_ptr<SerialExecutor> executor_;
};

}  // namespace ankh::parallel
