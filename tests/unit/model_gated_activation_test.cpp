// The gated feed-forward's activation: the gate functions the CUDA kernel computes
// (trainer/kernels/gated_activation_math.h, the same source compiled for the host here) against
// LibTorch's gelu(tanh) and silu and their autograd slopes, and the LibTorch glue's behaviour
// where the kernel does not apply (CPU tensors): the composed ops, gradients to the projection.
// The kernel itself is compared with these on a GPU (tests/gpu/model_cuda_test.cpp).
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "trainer/kernels/gated_activation_math.h"
#include "trainer/model/gated_activation.h"
#include "trainer/model/layers.h"

namespace ankh::model {
namespace {

using kernels::GateFunction;

// x from -12 to 12 (both tails of the tanh and the exponential) in fp64.
torch::Tensor sample_points() { return torch::linspace(-12, 12, 4801, torch::kDouble); }

// The kernel's value and slope at every point, in fp32 as the kernel computes them.
std::pair<torch::Tensor, torch::Tensor> kernel_gate(GateFunction f, const torch::Tensor& x) {
  const auto n = x.size(0);
  torch::Tensor value = torch::empty({n}, torch::kDouble), slope = torch::empty({n}, torch::kDouble);
  const auto xs = x.accessor<double, 1>();
  auto vs = value.accessor<double, 1>();
  auto ss = slope.accessor<double, 1>();
  for (int64_t i = 0; i < n; ++i) {
    const kernels::GateValue g = kernels::gate_value(f, static_cast<float>(xs[i]));
    vs[i] = g.value;
    ss[i] = g.slope;
  }
  return {value, slope};
}

// LibTorch's value and autograd slope in fp64: the reference.
std::pair<torch::Tensor, torch::Tensor> libtorch_gate(GateFunction f, const torch::Tensor& x) {
  const torch::Tensor in = x.clone().requires_grad_();
  const torch::Tensor y = f == GateFunction::GeluTanh ? torch::gelu(in, "tanh") : torch::silu(in);
  const torch::Tensor slope = torch::autograd::grad({y.sum()}, {in})[0];
  return {y.detach(), slope};
}

// Largest |a - b| relative to max(1, |b|): fp32 rounding is ~1e-7 of the magnitude.
double worst_error(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs() / b.abs().clamp_min(1)).max().item<double>();
}

// The kernel's gate against LibTorch's at every sample point: values to 1e-6, slopes to
// slope_tolerance.
void expect_matches_libtorch(GateFunction f, double slope_tolerance) {
  const torch::Tensor x = sample_points();
  const auto [value, slope] = kernel_gate(f, x);
  const auto [ref_value, ref_slope] = libtorch_gate(f, x);
  EXPECT_LT(worst_error(value, ref_value), 1e-6);
  EXPECT_LT(worst_error(slope, ref_slope), slope_tolerance);
}

TEST(GatedActivationMath, GeluTanhAndItsSlopeMatchLibTorch) {
  // The slope's 1 - tanh^2 cancels in fp32 where tanh nears 1 (|x| ~ 4-9), as in LibTorch's own
  // fp32 kernels: a few 1e-7 of tanh times a factor up to ~10.
  expect_matches_libtorch(GateFunction::GeluTanh, 1e-5);
  // The approximation, not the erf GELU: they differ by ~1e-3 near |x| = 2.
  const torch::Tensor x = sample_points();
  EXPECT_GT(worst_error(kernel_gate(GateFunction::GeluTanh, x).first, torch::gelu(x)), 1e-4);
}

TEST(GatedActivationMath, SiluAndItsSlopeMatchLibTorch) { expect_matches_libtorch(GateFunction::Silu, 1e-6); }

TEST(GatedActivation, ComposedPathOnTheProjectionMatchesSeparateHalves) {
  torch::manual_seed(1);
  for (Activation activation : {Activation::GatedGelu, Activation::GatedSilu}) {
    const torch::Tensor h = torch::randn({2, 5, 2 * 7}, torch::kDouble).requires_grad_();
    EXPECT_FALSE(fused_gated_activation_applies(h, activation)) << "a CPU tensor";
    const torch::Tensor y = gated_activation(h, activation, /*fused=*/true);
    ASSERT_EQ(y.sizes(), (torch::IntArrayRef{2, 5, 7}));
    const torch::Tensor gate = h.detach().slice(-1, 0, 7), up = h.detach().slice(-1, 7);
    const torch::Tensor f = activation == Activation::GatedGelu ? torch::gelu(gate, "tanh") : torch::silu(gate);
    EXPECT_TRUE(torch::allclose(y, f * up, 1e-12, 1e-12));
    // The gradient reaches both halves of the one projection tensor.
    const torch::Tensor upstream = torch::randn({2, 5, 7}, torch::kDouble);
    const torch::Tensor dh = torch::autograd::grad({y}, {h}, {upstream})[0];
    const auto [ref_value, ref_slope] = libtorch_gate(
        activation == Activation::GatedGelu ? GateFunction::GeluTanh : GateFunction::Silu, gate.reshape({-1}));
    EXPECT_TRUE(torch::allclose(dh.slice(-1, 0, 7), upstream * up * ref_slope.view_as(gate), 1e-10, 1e-12));
    EXPECT_TRUE(torch::allclose(dh.slice(-1, 7), upstream * f, 1e-12, 1e-12));
  }
}

TEST(GatedActivation, RejectsWhatIsNotAGatedProjection) {
  const torch::Tensor h = torch::randn({3, 8});
  EXPECT_THROW(gated_activation(h, Activation::Relu, true), c10::Error);
  EXPECT_THROW(gated_activation(torch::randn({3, 7}), Activation::GatedGelu, true), c10::Error);
}

// The feed-forward block gives the same function and gradients whichever way the projection is
// computed (fused or separate GEMMs) and whatever fused_activation says.
TEST(GatedActivation, FeedForwardIsTheSameWithAndWithoutFusion) {
  ModelConfig c;
  c.d_model = 16;
  c.d_ff = 24;
  c.activation = Activation::GatedGelu;
  torch::Tensor reference_out, reference_grad;
  for (bool fuse : {false, true}) {
    for (bool fused_activation : {false, true}) {
      c.fuse_projections = fuse;
      c.fused_activation = fused_activation;
      torch::manual_seed(5);
      FeedForward ff(c);
      ff->to(torch::kDouble);
      torch::manual_seed(6);
      const torch::Tensor x = torch::randn({2, 3, 16}, torch::kDouble);
      const torch::Tensor out = ff(x);
      out.pow(2).sum().backward();
      const torch::Tensor grad = at::cat({ff->wi_0->weight.grad().flatten(), ff->wi_1->weight.grad().flatten(),
                                          ff->wo->weight.grad().flatten()});
      if (!reference_out.defined()) {
        reference_out = out.detach();
        reference_grad = grad;
        continue;
      }
      EXPECT_TRUE(torch::allclose(out, reference_out, 1e-12, 1e-12)) << fuse << fused_activation;
      EXPECT_TRUE(torch::allclose(grad, reference_grad, 1e-10, 1e-12)) << fuse << fused_activation;
    }
  }
}

}  // namespace
}  // namespace ankh::model
