// Collective communication between the ranks of a data-parallel job. Two implementations:
// MpiCommunicator (CPU tensors) and NcclCommunicator (CUDA tensors, when built with NCCL).
// Collectives are issued in the same order on every rank. Asynchronous ones return a Work
// handle; wait() blocks the host (MPI) or orders the current compute stream after the
// collective (NCCL) without blocking the host.
#pragma once

#include <memory>
#include <string>

#include <torch/types.h>

namespace ankh::parallel {

enum class ReduceOp { Sum, Max, Min };

class Work {
 public:
  virtual ~Work() = default;
  // Makes the result visible to the caller's subsequent work (see above).
  virtual void wait() = 0;
  // True once the collective has completed (never blocks).
  virtual bool completed() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string name() const = 0;  // "mpi", "nccl"
  virtual torch::Device device() const = 0;

  // In-place collectives on contiguous tensors of this communicator's device.
  virtual std::unique_ptr<Work> all_reduce_async(torch::Tensor& tensor, ReduceOp op = ReduceOp::Sum,
                                                 const std::string& label = "all_reduce") = 0;
  virtual void all_reduce(torch::Tensor& tensor, ReduceOp op = ReduceOp::Sum) = 0;
  virtual void broadcast(torch::Tensor& tensor, int root) = 0;
  // `output` has size() times the elements of `input`, rank r's part at [r*n, (r+1)*n).
  virtual void all_gather(const torch::Tensor& input, torch::Tensor& output) = 0;
  virtual void barrier() = 0;
};

}  // namespace ankh::parallel
