// The NCCL communicator and GradSync on a CUDA device, in one process (one rank: the sum over
// ranks is the rank's own value, so every result is known). Multi-GPU runs use the same code
// under mpirun. Skips without CUDA or without NCCL in the build.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ankh/build_config.h"
#include "core/error.h"
#include "trainer/parallel/agreement.h"
#include "trainer/parallel/grad_sync.h"
#include "trainer/parallel/make_communicator.h"
#include "trainer/parallel/mpi_env.h"
#include "trainer/parallel/nccl_communicator.h"

#if ANKH_TORCH_CUDA
#include <ATen/cuda/Sleep.h>

#include <future>
#endif

using namespace ankh::parallel;
using ankh::parallel::DistConfig;

#if ANKH_WITH_NCCL

namespace {

bool have_cuda() { return torch::cuda::is_available(); }

MpiSession& session() {
  static MpiSession s;  // an MPI singleton: this test runs without mpirun
  return s;
}

Communicator& nccl() {
  static std::unique_ptr<Communicator> c = [] {
    DistConfig config;
    config.backend = Backend::Auto;
    config.timeout_s = 120;
    return make_communicator(config, session(), torch::Device(torch::kCUDA, 0));
  }();
  return *c;
}

torch::Tensor pattern(int64_t n, torch::ScalarType dtype) {
  auto i = torch::arange(n, torch::kLong);
  return ((i * 7) % 61 - 30).to(dtype).to(torch::kCUDA);
}

}  // namespace

TEST(NcclCommunicator, AutoPicksNcclForACudaDevice) {
  if (!have_cuda()) GTEST_SKIP() << "no CUDA device";
  EXPECT_EQ(nccl().name(), "nccl");
  EXPECT_EQ(nccl().size(), session().world_size());
}

TEST(NcclCommunicator, CollectivesOnOneRankAreExact) {
  if (!have_cuda()) GTEST_SKIP() << "no CUDA device";
  auto& c = nccl();
  if (c.size() != 1) GTEST_SKIP() << "expects a single rank";
  for (auto dtype : {torch::kFloat, torch::kBFloat16, torch::kHalf, torch::kInt, torch::kLong, torch::kDouble})
    for (auto op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min})
      for (int64_t n : {int64_t{1}, int64_t{7}, (int64_t{1} << 20) + 3}) {
        auto t = pattern(n, dtype);
        const auto before = t.clone();
        c.all_reduce(t, op);
        EXPECT_TRUE(torch::equal(t.cpu(), before.cpu())) << c10::toString(dtype) << " of " << n;
      }
  auto b = pattern(1001, torch::kFloat), expected = b.clone();
  c.broadcast(b, 0);
  EXPECT_TRUE(torch::equal(b.cpu(), expected.cpu()));
  auto in = pattern(999, torch::kFloat), out = torch::zeros({999}, torch::TensorOptions().device(torch::kCUDA));
  c.all_gather(in, out);
  EXPECT_TRUE(torch::equal(out.cpu(), in.cpu()));
  c.barrier();
  EXPECT_TRUE(any_rank(true, c));
  EXPECT_FALSE(any_rank(false, c));
}

TEST(NcclCommunicator, WaitOrdersTheComputeStreamAfterTheCollective) {
  if (!have_cuda()) GTEST_SKIP() << "no CUDA device";
  auto& c = nccl();
  std::vector<torch::Tensor> tensors;
  std::vector<std::unique_ptr<Work>> works;
  for (int k = 0; k < 8; ++k) {
    tensors.push_back(torch::full({1 << 22}, static_cast<float>(k), torch::TensorOptions().device(torch::kCUDA)));
    works.push_back(c.all_reduce_async(tensors.back(), ReduceOp::Sum, "async " + std::to_string(k)));
  }
  for (std::size_t k = 0; k < works.size(); ++k) {
    works[k]->wait();  // device-side only; the .cpu() below runs on the compute stream after it
    EXPECT_EQ(tensors[k].sum().item<double>(), static_cast<double>(k) * c.size() * (1 << 22));
  }
  torch::cuda::synchronize();
  for (auto& w : works) EXPECT_TRUE(w->completed());
}

TEST(NcclCommunicator, RefusesCpuTensors) {
  if (!have_cuda()) GTEST_SKIP() << "no CUDA device";
  auto t = torch::zeros({4});
  EXPECT_THROW(nccl().all_reduce(t), ankh::core::DistError);
}

TEST(NcclGradSync, BucketsOverlapBackwardOnTheGpu) {
  if (!have_cuda()) GTEST_SKIP() << "no CUDA device";
  auto& c = nccl();
  torch::manual_seed(5);
  auto net = torch::nn::Sequential(torch::nn::Linear(64, 256), torch::nn::GELU(), torch::nn::Linear(256, 256),
                                   torch::nn::GELU(), torch::nn::Linear(256, 64));
  net->to(torch::kCUDA);
  auto reference = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(net->clone());
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& item : net->named_parameters()) named.emplace_back(item.key(), item.value());
  DistConfig config;
  config.bucket_mb = 0.02;  // a bucket per layer
  GradSync sync(named, c, config);
  ASSERT_GT(sync.layout().size(), 2u);
  for (int step = 0; step < 3; ++step) {
    torch::manual_seed(100 + step);
    auto x = torch::randn({32, 64}).to(torch::kCUDA);
    for (auto& p : reference->parameters()) p.mutable_grad() = torch::Tensor();
    reference->forward(x).pow(2).mean().backward();
    sync.zero_grad();
    sync.begin_micro_batch(true);
    net->forward(x).pow(2).mean().backward();
    sync.finish();
    EXPECT_EQ(sync.last_stats().launched_in_backward, step == 0 ? 0 : static_cast<int>(sync.layout().size()));
    auto got = net->parameters(), want = reference->parameters();
    for (std::size_t i = 0; i < got.size(); ++i)
      EXPECT_TRUE(torch::allclose(got[i].grad(), want[i].grad() * c.size(), 1e-5, 1e-6)) << "parameter " << i;
  }
}

#if ANKH_TORCH_CUDA
TEST(NcclCommunicator, WatchdogAbortsACollectiveStuckOnTheDevice) {
  if (!have_cuda()) GTEST_SKIP() << "no CUDA device";
  std::promise<std::string> fired;
  WatchdogOptions options;
  options.timeout_s = 0.5;
  options.on_timeout = [&fired](const std::string& m) { fired.set_value(m); };  // record, do not exit
  NcclCommunicator comm(session(), torch::Device(torch::kCUDA, 0), options);
  auto t = torch::ones({1024}, torch::TensorOptions().device(torch::kCUDA));
  // The collective waits for the compute stream, kept busy for seconds: it looks stuck.
  at::cuda::sleep(int64_t{1} << 33);
  auto work = comm.all_reduce_async(t, ReduceOp::Sum, "stuck behind a long kernel");
  auto future = fired.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(60)), std::future_status::ready) << "the watchdog never fired";
  const std::string message = future.get();
  EXPECT_NE(message.find("stuck behind a long kernel"), std::string::npos) << message;
  EXPECT_NE(message.find("nccl communicator"), std::string::npos) << message;
  // ncclCommAbort ran before the handler: the communicator refuses further work.
  EXPECT_THROW(comm.all_reduce(t), ankh::core::DistError);
  torch::cuda::synchronize();
}
#endif

#else

TEST(NcclCommunicator, NotInThisBuild) { GTEST_SKIP() << "built without NCCL"; }

#endif
