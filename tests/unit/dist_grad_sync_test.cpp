// GradSync in one process, against a fake communicator that stands for two identical ranks (an
// all-reduce sum doubles the tensor) and records when each bucket is launched. Multi-rank
// behaviour under a real mpirun is in tests/mpi/dist_grad_sync_test.cpp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>

#include "core/error.h"
#include "trainer/parallel/grad_sync.h"

using namespace ankh::parallel;
using ankh::parallel::DistConfig;

namespace {

class DoneWork final : public Work {
 public:
  void wait() override {}
  bool completed() override { return true; }
};

// Two identical ranks: Sum doubles, Max and Min change nothing.
class MirrorCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  std::string name() const override { return "mirror"; }
  torch::Device device() const override { return torch::kCPU; }
  std::unique_ptr<Work> all_reduce_async(torch::Tensor& t, ReduceOp op, const std::string& label) override {
    labels.push_back(label);
    if (on_launch) on_launch(label);
    if (op == ReduceOp::Sum) t.mul_(2);
    return std::make_unique<DoneWork>();
  }
  void all_reduce(torch::Tensor& t, ReduceOp op) override { all_reduce_async(t, op, "all_reduce")->wait(); }
  void broadcast(torch::Tensor&, int) override { ++broadcasts; }
  void all_gather(const torch::Tensor& in, torch::Tensor& out) override { out.copy_(torch::cat({in, in})); }
  void barrier() override {}

  std::vector<std::string> labels;
  std::function<void(const std::string&)> on_launch;
  int broadcasts = 0;
};

torch::nn::Sequential make_net() {
  torch::manual_seed(7);
  return torch::nn::Sequential(torch::nn::Linear(16, 32), torch::nn::Tanh(), torch::nn::Linear(32, 32),
                               torch::nn::Tanh(), torch::nn::Linear(32, 32), torch::nn::Tanh(),
                               torch::nn::Linear(32, 4));
}

std::vector<std::pair<std::string, torch::Tensor>> named(const torch::nn::Module& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : m.named_parameters()) out.emplace_back(item.key(), item.value());
  return out;
}

torch::Tensor input(int64_t seed) {
  torch::manual_seed(seed);
  return torch::randn({8, 16});
}

// Gradients of `net` for one batch, without any synchronisation.
std::vector<torch::Tensor> local_grads(const torch::nn::Sequential& net, const std::vector<int64_t>& seeds) {
  auto copy = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(net->clone());
  for (int64_t s : seeds) copy->forward(input(s)).pow(2).sum().backward();
  std::vector<torch::Tensor> out;
  for (auto& p : copy->parameters()) out.push_back(p.grad().clone());
  return out;
}

DistConfig small_buckets(bool overlap) {
  DistConfig c;
  c.bucket_mb = 4096.0 / (1 << 20);  // 4 KiB: a bucket per layer or so
  c.overlap = overlap;
  return c;
}

void expect_grads(const torch::nn::Sequential& net, const std::vector<torch::Tensor>& expected, double factor) {
  auto params = net->parameters();
  ASSERT_EQ(params.size(), expected.size());
  for (std::size_t i = 0; i < params.size(); ++i)
    EXPECT_TRUE(torch::equal(params[i].grad(), expected[i] * factor)) << "parameter " << i;
}

}  // namespace

TEST(GradSync, GradientsAreViewsIntoTheBuckets) {
  auto net = make_net();
  MirrorCommunicator comm;
  GradSync sync(named(*net), comm, small_buckets(true));
  ASSERT_GT(sync.layout().size(), 2u);
  for (std::size_t b = 0; b < sync.layout().size(); ++b) {
    const auto& buffer = sync.bucket_buffer(b);
    for (const auto& slot : sync.layout()[b].slots) {
      const auto& grad = net->parameters()[slot.param].grad();
      EXPECT_EQ(grad.data_ptr(), static_cast<char*>(buffer.data_ptr()) + slot.offset * buffer.element_size());
    }
  }
  // The first bucket holds the last parameter (the output layer's bias).
  EXPECT_EQ(sync.layout()[0].slots[0].param, net->parameters().size() - 1);
}

TEST(GradSync, SumsOverRanksAndStartsOverlappingFromTheSecondStep) {
  auto net = make_net();
  const auto expected = local_grads(net, {1});
  MirrorCommunicator comm;
  GradSync sync(named(*net), comm, small_buckets(true));
  const int buckets = static_cast<int>(sync.layout().size());
  const auto first_weight = net->parameters()[0];

  // Step 1 learns how often each hook fires: nothing is launched during backward.
  sync.begin_micro_batch(true);
  net->forward(input(1)).pow(2).sum().backward();
  EXPECT_EQ(sync.launched_buckets(), 0);
  sync.finish();
  EXPECT_EQ(sync.last_stats().launched_in_backward, 0);
  EXPECT_EQ(sync.last_stats().buckets, buckets);
  expect_grads(net, expected, 2.0);

  // Step 2: buckets start during backward, in order, while the first layer's gradient is not
  // computed yet (it is produced last).
  sync.zero_grad();
  comm.labels.clear();
  bool first_layer_pending_at_first_launch = false;
  comm.on_launch = [&](const std::string& label) {
    if (comm.labels.size() == 1) first_layer_pending_at_first_launch = first_weight.grad().abs().sum().item<float>() == 0;
  };
  sync.begin_micro_batch(true);
  net->forward(input(1)).pow(2).sum().backward();
  EXPECT_EQ(sync.launched_buckets(), buckets) << "every bucket is complete when backward returns";
  EXPECT_TRUE(first_layer_pending_at_first_launch);
  sync.finish();
  EXPECT_EQ(sync.last_stats().launched_in_backward, buckets);
  ASSERT_EQ(comm.labels.size(), static_cast<std::size_t>(buckets));
  for (int b = 0; b < buckets; ++b)
    EXPECT_EQ(comm.labels[b].rfind("grad bucket " + std::to_string(b + 1) + "/", 0), 0u) << comm.labels[b];
  expect_grads(net, expected, 2.0);
}

TEST(GradSync, OverlapOffGivesTheSameGradientsAfterBackward) {
  auto net_on = make_net();
  auto net_off = make_net();
  MirrorCommunicator comm_on, comm_off;
  GradSync on(named(*net_on), comm_on, small_buckets(true));
  GradSync off(named(*net_off), comm_off, small_buckets(false));
  for (int step = 0; step < 3; ++step) {
    for (auto* s : {&on, &off}) {
      s->zero_grad();
      s->begin_micro_batch(true);
    }
    net_on->forward(input(step)).pow(2).sum().backward();
    net_off->forward(input(step)).pow(2).sum().backward();
    EXPECT_EQ(off.launched_buckets(), 0);
    on.finish();
    off.finish();
    EXPECT_EQ(off.last_stats().launched_in_backward, 0);
    for (std::size_t i = 0; i < net_on->parameters().size(); ++i)
      EXPECT_TRUE(torch::equal(net_on->parameters()[i].grad(), net_off->parameters()[i].grad()));
  }
}

TEST(GradSync, AccumulationCommunicatesOnlyOnTheSyncMicroBatch) {
  auto net = make_net();
  const auto expected = local_grads(net, {1, 2});
  MirrorCommunicator comm;
  GradSync sync(named(*net), comm, small_buckets(true));
  for (int step = 0; step < 2; ++step) {
    sync.zero_grad();
    comm.labels.clear();
    sync.begin_micro_batch(false);
    net->forward(input(1)).pow(2).sum().backward();
    EXPECT_TRUE(comm.labels.empty()) << "a non-final micro-batch must not communicate";
    EXPECT_THROW(sync.finish(), ankh::core::DistError);
    sync.begin_micro_batch(true);
    net->forward(input(2)).pow(2).sum().backward();
    sync.finish();
    EXPECT_EQ(comm.labels.size(), sync.layout().size());
    // Learnt from the first (non-sync) micro-batch, so even step 1 overlaps.
    EXPECT_EQ(sync.last_stats().launched_in_backward, static_cast<int>(sync.layout().size()));
    for (std::size_t i = 0; i < expected.size(); ++i)
      EXPECT_TRUE(torch::allclose(net->parameters()[i].grad(), expected[i] * 2, 1e-6, 1e-6));
  }
}

namespace {
// Reentrant activation checkpointing as a model would do it: forward without a graph; backward
// recomputes with one and runs an inner backward, which fires the weight's AccumulateGrad hook.
struct WeightRef {
  torch::Tensor w;
};
struct CheckpointedTanh : torch::autograd::Function<CheckpointedTanh> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x, WeightRef w) {
    ctx->saved_data["w"] = w.w;
    ctx->save_for_backward({x});
    torch::NoGradGuard no_grad;
    return torch::tanh(torch::matmul(x, w.w));
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    auto w = ctx->saved_data["w"].toTensor();
    torch::AutoGradMode enable(true);
    auto y = torch::tanh(torch::matmul(x, w));
    torch::autograd::backward({y}, {grads[0]});
    return {x.grad(), torch::Tensor()};
  }
};
}  // namespace

TEST(GradSync, LearnsHooksThatFireSeveralTimesUnderCheckpointing) {
  torch::manual_seed(3);
  auto shared = torch::randn({8, 8}, torch::requires_grad());  // used by two checkpointed segments
  auto head = torch::randn({8, 2}, torch::requires_grad());
  auto loss_of = [&](const torch::Tensor& x) {
    auto h = CheckpointedTanh::apply(x, WeightRef{shared});
    h = CheckpointedTanh::apply(h, WeightRef{shared});
    return torch::matmul(h, head).pow(2).sum();
  };
  auto x = torch::randn({4, 8}, torch::requires_grad());
  loss_of(x).backward();
  const auto expected_shared = shared.grad().clone(), expected_head = head.grad().clone();
  shared.mutable_grad() = torch::Tensor();
  head.mutable_grad() = torch::Tensor();

  MirrorCommunicator comm;
  DistConfig config;
  config.bucket_mb = 50.0 / (1 << 20);  // one bucket per tensor
  GradSync sync({{"shared", shared}, {"head", head}}, comm, config);
  ASSERT_EQ(sync.layout().size(), 2u);
  for (int step = 0; step < 3; ++step) {
    sync.zero_grad();
    sync.begin_micro_batch(true);
    loss_of(x).backward();
    sync.finish();
    EXPECT_TRUE(torch::allclose(shared.grad(), expected_shared * 2));
    EXPECT_TRUE(torch::allclose(head.grad(), expected_head * 2));
    // From step 2 both buckets start during backward, the shared one after its second piece.
    EXPECT_EQ(sync.last_stats().launched_in_backward, step == 0 ? 0 : 2);
  }
}

TEST(GradSync, AnUnusedParameterIsStillReduced) {
  auto used = torch::ones({4}, torch::requires_grad());
  auto unused = torch::ones({4}, torch::requires_grad());
  MirrorCommunicator comm;
  DistConfig config;
  config.bucket_mb = 16.0 / (1 << 20);
  GradSync sync({{"unused", unused}, {"used", used}}, comm, config);
  for (int step = 0; step < 2; ++step) {
    sync.zero_grad();
    sync.begin_micro_batch(true);
    (used * 3).sum().backward();
    sync.finish();
    EXPECT_EQ(sync.last_stats().buckets, 2);
    EXPECT_TRUE(torch::equal(used.grad(), torch::full({4}, 6.0f)));
    EXPECT_TRUE(torch::equal(unused.grad(), torch::zeros({4})));
  }
}

TEST(GradSync, RepairsGradientsSetToNone) {
  auto net = make_net();
  const auto expected = local_grads(net, {1});
  MirrorCommunicator comm;
  GradSync sync(named(*net), comm, small_buckets(true));
  for (int step = 0; step < 2; ++step) {
    // What optimizer.zero_grad(set_to_none=true) does.
    for (auto& p : net->parameters()) p.mutable_grad() = torch::Tensor();
    sync.begin_micro_batch(true);
    net->forward(input(1)).pow(2).sum().backward();
    sync.finish();
    expect_grads(net, expected, 2.0);
    sync.zero_grad();
    for (std::size_t b = 0; b < sync.layout().size(); ++b)
      for (const auto& slot : sync.layout()[b].slots)
        EXPECT_EQ(net->parameters()[slot.param].grad().data_ptr(),
                  static_cast<char*>(sync.bucket_buffer(b).data_ptr()) + slot.offset * 4);
  }
}

TEST(GradSync, MisuseIsAClearError) {
  auto net = make_net();
  MirrorCommunicator comm;
  GradSync sync(named(*net), comm, small_buckets(true));
  sync.begin_micro_batch(true);
  net->forward(input(1)).sum().backward();
  EXPECT_THROW(sync.begin_micro_batch(false), ankh::core::DistError);  // finish() forgotten
  sync.finish();

  auto leaf = torch::ones({3}, torch::requires_grad());
  auto computed = leaf * 2;
  EXPECT_THROW(GradSync({{"computed", computed}}, comm, DistConfig{}), ankh::core::DistError);
  EXPECT_THROW(GradSync({{"frozen", torch::ones({3})}}, comm, DistConfig{}), ankh::core::DistError);
}

TEST(GradSync, BroadcastsParametersInBuckets) {
  auto net = make_net();
  MirrorCommunicator comm;
  DistConfig config;  // 25 MiB: all of this tiny net in one broadcast
  GradSync sync(named(*net), comm, config);
  sync.broadcast_parameters(0);
  EXPECT_EQ(comm.broadcasts, 1);
}
