// The MPI communicator under a real 2-rank mpirun: every collective checked element by element on
// every rank, for several sizes (odd ones too), every dtype the trainer uses, every reduce op,
// broadcasts from each root; asynchronous all-reduces progress while the caller computes; the
// stop-flag agreement; the backend choice.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <thread>

#include "core/error.h"
#include "trainer/parallel/agreement.h"
#include "trainer/parallel/make_communicator.h"
#include "trainer/parallel/mpi_communicator.h"
#include "trainer/parallel/mpi_env.h"

using namespace ankh::parallel;
using ankh::parallel::DistConfig;

namespace {

const std::vector<int64_t> kSizes = {1, 7, 1000, 65537, (int64_t{1} << 20) + 3};

MpiCommunicator& comm() {
  static MpiSession session;  // MPI is initialised by mpi_main.cpp: this only reads rank and size
  static MpiCommunicator c(session.world(), [] {
    WatchdogOptions o;
    o.timeout_s = 120;  // a hang fails the test (non-zero exit) instead of blocking ctest
    return o;
  }());
  return c;
}

// Rank r's value at element i: small integers, exact in every dtype tested (bf16 holds
// integers up to 256 exactly, so sums stay below that).
double value(int rank, int64_t i) { return static_cast<double>((i * 7 + rank * 13) % 61) - 30; }

torch::Tensor rank_tensor(int rank, int64_t n, torch::ScalarType dtype) {
  auto i = torch::arange(n, torch::kLong);
  return ((i * 7 + rank * 13) % 61 - 30).to(dtype);
}

double expected(ReduceOp op, int64_t i, int world) {
  double acc = value(0, i);
  for (int r = 1; r < world; ++r) {
    const double v = value(r, i);
    acc = op == ReduceOp::Sum ? acc + v : op == ReduceOp::Max ? std::max(acc, v) : std::min(acc, v);
  }
  return acc;
}

int64_t count_wrong(const torch::Tensor& got, ReduceOp op, int world) {
  auto d = got.to(torch::kDouble).contiguous();
  const double* p = d.data_ptr<double>();
  int64_t wrong = 0;
  for (int64_t i = 0; i < d.numel(); ++i)
    if (p[i] != expected(op, i, world)) ++wrong;
  return wrong;
}

const char* op_name(ReduceOp op) { return op == ReduceOp::Sum ? "sum" : op == ReduceOp::Max ? "max" : "min"; }

}  // namespace

TEST(MpiCommunicator, AllReduceEveryDtypeOpAndSize) {
  auto& c = comm();
  ASSERT_EQ(c.size(), 2);
  for (auto dtype : {torch::kFloat, torch::kDouble, torch::kBFloat16, torch::kHalf, torch::kInt, torch::kLong})
    for (auto op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min})
      for (int64_t n : kSizes) {
        auto t = rank_tensor(c.rank(), n, dtype);
        c.all_reduce(t, op);
        EXPECT_EQ(t.scalar_type(), dtype);
        EXPECT_EQ(count_wrong(t, op, c.size()), 0)
            << "rank " << c.rank() << ": " << c10::toString(dtype) << " " << op_name(op) << " of " << n;
      }
}

TEST(MpiCommunicator, AllReduceOfBoolsIsLogical) {
  auto& c = comm();
  // Element i: rank 0 holds i & 1, rank 1 holds i & 2.
  auto i = torch::arange(1001, torch::kLong);
  auto mine = (i.bitwise_and(c.rank() == 0 ? 1 : 2) != 0);
  auto any = mine.clone(), all = mine.clone();
  c.all_reduce(any, ReduceOp::Sum);
  c.all_reduce(all, ReduceOp::Min);
  EXPECT_TRUE(torch::equal(any, i.bitwise_and(3) != 0));
  EXPECT_TRUE(torch::equal(all, i.bitwise_and(3) == 3));
}

TEST(MpiCommunicator, ManyAsyncAllReducesInFlightCompleteInOrder) {
  auto& c = comm();
  std::vector<torch::Tensor> tensors;
  std::vector<std::unique_ptr<Work>> works;
  for (int64_t n : kSizes) {
    tensors.push_back(rank_tensor(c.rank(), n, torch::kFloat));
    works.push_back(c.all_reduce_async(tensors.back(), ReduceOp::Sum, "test " + std::to_string(n)));
  }
  for (std::size_t k = 0; k < works.size(); ++k) {
    works[k]->wait();
    EXPECT_TRUE(works[k]->completed());
    EXPECT_EQ(count_wrong(tensors[k], ReduceOp::Sum, c.size()), 0) << "size " << kSizes[k];
  }
}

TEST(MpiCommunicator, AsyncAllReduceProgressesWhileTheCallerComputes) {
  auto& c = comm();
  auto t = rank_tensor(c.rank(), int64_t{1} << 22, torch::kFloat);
  auto work = c.all_reduce_async(t, ReduceOp::Sum, "progress");
  // Compute without calling into the communicator: the collective must finish by itself.
  auto a = torch::randn({128, 128});
  int rounds = 0;
  for (; rounds < 200000 && !work->completed(); ++rounds) a = torch::tanh(a.mm(a) * 0.01);
  EXPECT_TRUE(work->completed()) << "no progress after " << rounds << " rounds of compute";
  work->wait();
  EXPECT_EQ(count_wrong(t, ReduceOp::Sum, c.size()), 0);
}

TEST(MpiCommunicator, BroadcastFromEachRoot) {
  auto& c = comm();
  for (int root = 0; root < c.size(); ++root)
    for (auto dtype : {torch::kFloat, torch::kBFloat16, torch::kLong, torch::kBool})
      for (int64_t n : kSizes) {
        auto t = rank_tensor(c.rank(), n, dtype);
        const auto from_root = rank_tensor(root, n, dtype);
        c.broadcast(t, root);
        EXPECT_TRUE(torch::equal(t, from_root))
            << "rank " << c.rank() << ": broadcast from " << root << " of " << n << " " << c10::toString(dtype);
      }
}

TEST(MpiCommunicator, AllGatherPlacesEachRanksPart) {
  auto& c = comm();
  for (int64_t n : kSizes) {
    auto in = rank_tensor(c.rank(), n, torch::kFloat);
    auto out = torch::full({n * c.size()}, -999.0f);
    c.all_gather(in, out);
    for (int r = 0; r < c.size(); ++r)
      EXPECT_TRUE(torch::equal(out.narrow(0, r * n, n), rank_tensor(r, n, torch::kFloat)))
          << "rank " << c.rank() << ": part of rank " << r << " for " << n;
  }
}

TEST(MpiCommunicator, BarrierAndStopFlagAgreement) {
  auto& c = comm();
  c.barrier();
  EXPECT_FALSE(any_rank(false, c));
  EXPECT_TRUE(any_rank(c.rank() == 1, c)) << "rank 1's SIGTERM must stop every rank";
  EXPECT_TRUE(any_rank(true, c));
  EXPECT_FALSE(all_ranks(c.rank() == 0, c));
  EXPECT_TRUE(all_ranks(true, c));
}

TEST(MpiCommunicator, RefusesBadTensorsBeforeIssuingAnything) {
  auto& c = comm();
  auto strided = torch::zeros({4, 4}).t();
  EXPECT_THROW(c.all_reduce(strided), ankh::core::DistError);
  torch::Tensor undefined;
  EXPECT_THROW(c.broadcast(undefined, 0), ankh::core::DistError);
  auto t = torch::zeros({4});
  EXPECT_THROW(c.broadcast(t, 2), ankh::core::DistError);
  auto out = torch::zeros({5});
  EXPECT_THROW(c.all_gather(t, out), ankh::core::DistError);
  auto complex = torch::zeros({2}, torch::kComplexFloat);
  EXPECT_THROW(c.all_reduce(complex), ankh::core::DistError);
  c.barrier();  // both ranks are still in step
}

TEST(MakeCommunicator, ChoosesMpiOnCpuAndRefusesNccl) {
  MpiSession session;
  DistConfig config;
  auto chosen = make_communicator(config, session, torch::kCPU);
  EXPECT_EQ(chosen->name(), "mpi");
  EXPECT_EQ(chosen->size(), session.world_size());
  config.backend = Backend::Nccl;
  try {
    make_communicator(config, session, torch::kCPU);
    ADD_FAILURE() << "dist.backend=nccl on a CPU device must fail";
  } catch (const ankh::core::DistError& e) {
    EXPECT_EQ(e.where(), "dist.backend=nccl");
  }
}

// Ranks sharing a GPU through the MPI communicator (dist.backend=mpi on CUDA): every collective
// copies through host memory and back. Runs on a CUDA host under `mpirun -np 2`; skips elsewhere.
TEST(MpiCommunicator, CudaTensorsGoThroughHostMemory) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  static MpiSession session;
  WatchdogOptions o;
  o.timeout_s = 120;
  MpiCommunicator c(session.world(), o, torch::Device(torch::kCUDA, 0));
  const torch::Device cuda(torch::kCUDA, 0);
  for (auto dtype : {torch::kFloat, torch::kBFloat16, torch::kLong})
    for (int64_t n : kSizes) {
      // Written by a kernel just before the collective: the host copy must wait for it.
      auto t = (rank_tensor(c.rank(), n, torch::kFloat).to(cuda) * 2 - rank_tensor(c.rank(), n, torch::kFloat).to(cuda))
                   .to(dtype);
      auto work = c.all_reduce_async(t, ReduceOp::Sum, "cuda");
      work->wait();
      EXPECT_TRUE(t.is_cuda());
      EXPECT_EQ(t.scalar_type(), dtype);
      EXPECT_EQ(count_wrong(t.cpu(), ReduceOp::Sum, c.size()), 0) << c10::toString(dtype) << " of " << n;
    }
  auto b = torch::full({1000}, static_cast<double>(c.rank() + 5), torch::TensorOptions().device(cuda));
  c.broadcast(b, 1);
  EXPECT_TRUE(torch::equal(b.cpu(), torch::full({1000}, 6.0)));
  auto in = torch::full({3}, static_cast<int64_t>(c.rank()), torch::TensorOptions().dtype(torch::kLong).device(cuda));
  auto out = torch::empty({3 * c.size()}, in.options());
  c.all_gather(in, out);
  EXPECT_TRUE(torch::equal(out.cpu(), torch::tensor({0, 0, 0, 1, 1, 1}, torch::kLong)));
}
