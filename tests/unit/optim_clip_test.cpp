// Global-norm gradient clipping: the norm, the scaling, precision, and non-finite gradients.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "trainer/optim/clip.h"

using namespace ankh::optim;

namespace {

// Gradients with a global norm of 13: |(3, 4)| = 5 and |12| = 12.
std::vector<torch::Tensor> grads_of_norm_13() {
  return {torch::tensor({3.0f, 4.0f}), torch::tensor({{12.0f}})};
}

}  // namespace

TEST(OptimClip, ReturnsGlobalNormAndScales) {
  auto grads = grads_of_norm_13();
  const double norm = clip_grad_norm(grads, 1.3);
  EXPECT_NEAR(norm, 13.0, 1e-6);
  const double coef = 1.3 / (13.0 + 1e-6);
  EXPECT_TRUE(torch::allclose(grads[0], torch::tensor({3.0f, 4.0f}) * coef));
  EXPECT_TRUE(torch::allclose(grads[1], torch::tensor({{12.0f}}) * coef));
  // After clipping the norm is max_norm (up to the 1e-6 guard).
  EXPECT_NEAR(clip_grad_norm(grads, 0.0), 1.3, 1e-6);
}

TEST(OptimClip, LeavesSmallGradientsAndDisabledClipAlone) {
  for (double max_norm : {100.0, 0.0}) {
    auto grads = grads_of_norm_13();
    EXPECT_NEAR(clip_grad_norm(grads, max_norm), 13.0, 1e-6);
    EXPECT_TRUE(torch::equal(grads[0], torch::tensor({3.0f, 4.0f})));
    EXPECT_TRUE(torch::equal(grads[1], torch::tensor({{12.0f}})));
  }
}

TEST(OptimClip, MixedPrecisionGradientsAccumulateInFp32) {
  // 4096 bf16 ones (norm 64), fp64 (3, 4): global norm sqrt(4096 + 25).
  std::vector<torch::Tensor> grads = {torch::ones({4096}, torch::kBFloat16), torch::tensor({3.0, 4.0}, torch::kFloat64)};
  const double norm = clip_grad_norm(grads, 1.0);
  EXPECT_NEAR(norm, std::sqrt(4121.0), 1e-4);
  EXPECT_EQ(grads[0].scalar_type(), torch::kBFloat16);
  EXPECT_NEAR(grads[1][0].item<double>(), 3.0 / std::sqrt(4121.0), 1e-6);
}

TEST(OptimClip, NonFiniteNormPropagatesAndGradientsAreUntouched) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    std::vector<torch::Tensor> grads = {torch::tensor({1.0f, bad}), torch::tensor({5.0f})};
    const double norm = clip_grad_norm(grads, 1.0);
    if (std::isnan(bad)) {
      EXPECT_TRUE(std::isnan(norm));
    } else {
      EXPECT_TRUE(std::isinf(norm));
    }
    EXPECT_EQ(grads[1].item<float>(), 5.0f);  // not scaled by a NaN/0 coefficient
  }
}

TEST(OptimClip, NamedParamsUseTheirGradientsAndSkipMissingOnes) {
  torch::Tensor a = torch::zeros({2}), b = torch::zeros({1, 1}), c = torch::zeros({3});
  a.mutable_grad() = torch::tensor({3.0f, 4.0f});
  b.mutable_grad() = torch::tensor({{12.0f}});
  const NamedParams params = {{"a", a}, {"b.weight", b}, {"c", c}};
  EXPECT_NEAR(clip_grad_norm(params, 6.5), 13.0, 1e-6);
  EXPECT_NEAR(a.grad()[1].item<float>(), 2.0f, 1e-5);
  EXPECT_FALSE(c.grad().defined());
  EXPECT_EQ(clip_grad_norm(NamedParams{{"c", c}}, 1.0), 0.0);
}
