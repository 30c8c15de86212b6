#include "trainer/parallel/agreement.h"

namespace ankh::parallel {

namespace {

bool reduce_flag(bool flag, ReduceOp op, Communicator& comm) {
  // int32 rather than bool: every backend reduces it with plain Max/Min.
  auto t = torch::full({1}, flag ? 1 : 0, torch::TensorOptions().dtype(torch::kInt).device(comm.device()));
  comm.all_reduce(t, op);
  return t.item<int>() != 0;  // on CUDA, .item() waits for the compute stream, which waits for the collective
}

}  // namespace

bool any_rank(bool flag, Communicator& comm) { return reduce_flag(flag, ReduceOp::Max, comm); }

bool all_ranks(bool flag, Communicator& comm) { return reduce_flag(flag, ReduceOp::Min, comm); }

}  // namespace ankh::parallel
