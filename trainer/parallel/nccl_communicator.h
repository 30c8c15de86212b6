// The NCCL communicator: collectives on CUDA tensors, one GPU per rank. Compiled only when the
// build found NCCL and the CUDA runtime (ANKH_WITH_NCCL). LibTorch may be CPU-only at build time,
// so it talks to the CUDA runtime directly.
//
// Streams: collectives run on a stream of their own. Each one first waits (an event, on the
// device) for the work already queued on the caller's compute stream, so it reads finished
// gradients; Work::wait() makes the compute stream wait for the collective's end event. The host
// never blocks per collective; only barrier() synchronises. The compute stream is LibTorch's
// current stream when LibTorch has CUDA (ANKH_TORCH_CUDA), else the legacy default stream.
#pragma once

#include "ankh/build_config.h"

#if ANKH_WITH_NCCL

#include <memory>

#include "trainer/parallel/communicator.h"
#include "trainer/parallel/mpi_env.h"
#include "trainer/parallel/watchdog.h"

namespace ankh::parallel {

class NcclCommunicator final : public Communicator {
 public:
  // Collective over the ranks of `session`: rank 0 creates the NCCL unique id and broadcasts it
  // with MPI_Bcast. `device` must be a CUDA device. `watchdog.name` is set to "nccl"; on a
  // timeout or an asynchronous NCCL error the watchdog calls ncclCommAbort, then aborts the job.
  NcclCommunicator(const MpiSession& session, torch::Device device, WatchdogOptions watchdog);
  ~NcclCommunicator() override;

  int rank() const override;
  int size() const override;
  std::string name() const override { return "nccl"; }
  torch::Device device() const override;

  std::unique_ptr<Work> all_reduce_async(torch::Tensor& tensor, ReduceOp op = ReduceOp::Sum,
                                         const std::string& label = "all_reduce") override;
  void all_reduce(torch::Tensor& tensor, ReduceOp op = ReduceOp::Sum) override;
  void broadcast(torch::Tensor& tensor, int root) override;
  void all_gather(const torch::Tensor& input, torch::Tensor& output) override;
  // Blocks the host until every rank got here and every collective issued before completed.
  void barrier() override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ankh::parallel

#endif  // ANKH_WITH_NCCL
