// Adafactor's fused factored step (trainer/optim/adafactor_fused.h, ankh's kernels) against the
// stacked LibTorch step on the same GPU: the same parameters and factored state after several
// steps to fp32 rounding, with and without the parameter scale, for shapes whose rows are not a
// multiple of the kernels' 16-row tile; bit-identical when repeated (resume stays exact); the
// cases it does not take (vectors, momentum) left to the stacked step. Skips without CUDA or
// without the kernels in this build.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include <torch/cuda.h>
#include <torch/torch.h>

#include "trainer/optim/adafactor.h"
#include "trainer/optim/adafactor_fused.h"

namespace ankh::optim {
namespace {

#define REQUIRE_KERNELS()                                                     \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";         \
  if (!fused_adafactor_built()) GTEST_SKIP() << "built without nvcc or without a CUDA LibTorch"

const torch::Device kCuda(torch::kCUDA, 0);

// Matrices of three shapes (one group each; 50 and 144 rows end in a partial tile, 12 columns are
// fewer than a block's threads) and a vector, which the fused step leaves to the stacked one.
NamedParams make_params(uint64_t seed) {
  torch::manual_seed(seed);
  const std::vector<std::pair<std::string, std::vector<int64_t>>> shapes = {
      {"a.0", {50, 37}}, {"a.1", {50, 37}}, {"a.2", {50, 37}}, {"b.0", {16, 768}},
      {"b.1", {16, 768}}, {"bias", {144, 12}}, {"norm", {37}}};
  NamedParams params;
  for (const auto& [name, shape] : shapes)
    params.emplace_back(name, (torch::randn(shape) * 0.05).to(kCuda).requires_grad_());
  return params;
}

// Steps `optimizer` with the same pseudo-random gradients for every run.
void run_steps(Optimizer& optimizer, const NamedParams& params, int steps) {
  torch::manual_seed(99);
  for (int s = 0; s < steps; ++s) {
    for (const auto& [name, p] : params) p.mutable_grad() = (torch::randn(p.sizes()) * (s + 1)).to(kCuda);
    optimizer.step(1e-2);
  }
}

double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).norm().item<double>() / std::max(1e-30, b.norm().item<double>());
}

struct Outcome {
  NamedParams params;
  NamedTensors state;
};

Outcome run(bool fused, bool scale_parameter, double beta1 = 0) {
  OptimConfig config;
  config.adafactor_fused = fused;
  config.adafactor_scale_parameter = scale_parameter;
  config.adafactor_beta1 = beta1;
  Outcome r{make_params(7), {}};
  Adafactor optimizer(config, r.params);
  run_steps(optimizer, r.params, 5);
  r.state = optimizer.state_tensors();
  return r;
}

TEST(AdafactorCuda, FusedStepMatchesTheStackedStep) {
  REQUIRE_KERNELS();
  {
    const NamedParams params = make_params(1);
    for (const auto& [name, p] : params) p.mutable_grad() = torch::zeros_like(p);
    EXPECT_TRUE(fused_adafactor_applies({params[0].second, params[1].second}));
    EXPECT_FALSE(fused_adafactor_applies({params.back().second})) << "a vector";
  }
  const NamedParams initial = make_params(7);  // what run() starts from
  for (bool scale_parameter : {false, true}) {
    const Outcome fused = run(true, scale_parameter), stacked = run(false, scale_parameter);
    for (size_t i = 0; i < fused.params.size(); ++i) {
      const auto& [name, p] = fused.params[i];
      const torch::Tensor& q = stacked.params[i].second;
      EXPECT_FALSE(torch::equal(p, initial[i].second)) << name << ": not updated";
      EXPECT_LT(relative_difference(p.detach(), q.detach()), 1e-6) << name << " scale_parameter=" << scale_parameter;
    }
    ASSERT_EQ(fused.state.size(), stacked.state.size());
    for (const auto& [name, value] : stacked.state)
      EXPECT_LT(relative_difference(fused.state.at(name).to(torch::kDouble), value.to(torch::kDouble)), 1e-6) << name;
  }
}

TEST(AdafactorCuda, FusedStepIsReproducibleBitForBit) {
  REQUIRE_KERNELS();
  const Outcome a = run(true, true), b = run(true, true);
  for (size_t i = 0; i < a.params.size(); ++i)
    EXPECT_TRUE(torch::equal(a.params[i].second, b.params[i].second)) << a.params[i].first;
  for (const auto& [name, value] : a.state) EXPECT_TRUE(torch::equal(value, b.state.at(name))) << name;
}

TEST(AdafactorCuda, MomentumKeepsTheStackedStep) {
  REQUIRE_KERNELS();
  const Outcome with_flag = run(true, false, 0.9), without = run(false, false, 0.9);
  for (size_t i = 0; i < with_flag.params.size(); ++i)
    EXPECT_TRUE(torch::equal(with_flag.params[i].second, without.params[i].second)) << with_flag.params[i].first;
}

}  // namespace
}  // namespace ankh::optim
