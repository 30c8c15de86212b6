// ankh's gated-activation CUDA kernel (trainer/kernels/gated_activation.cu) against its CPU
// reference (LibTorch's gelu(tanh)/silu and mul in fp64) and against the same LibTorch ops on the
// GPU in each element type: forward and backward, the 16-byte path and the element-wise one
// (odd widths, unaligned pointers), on LibTorch's current stream. Skips without CUDA or without
// the kernel in this build.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include <torch/cuda.h>
#include <torch/torch.h>

#include "ankh/build_config.h"
#include "trainer/model/gated_activation.h"

#if ANKH_TORCH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace ankh::model {
namespace {

#define REQUIRE_KERNEL()                                                      \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";         \
  if (!fused_gated_activation_built()) GTEST_SKIP() << "built without nvcc or without a CUDA LibTorch"

const torch::Device kCuda(torch::kCUDA, 0);

double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor x = a.to(torch::kCPU, torch::kDouble), y = b.to(torch::kCPU, torch::kDouble);
  return (x - y).norm().item<double>() / std::max(1e-30, y.norm().item<double>());
}

// Norm-wise relative error allowed against the fp64 reference: a few roundings of the type.
double tolerance(torch::ScalarType type) {
  return type == torch::kFloat ? 2e-6 : type == torch::kHalf ? 2e-3 : 1.5e-2;
}

struct Output {
  torch::Tensor y, dh;
};

Output run(const torch::Tensor& h, const torch::Tensor& upstream, Activation activation, bool fused) {
  const torch::Tensor in = h.detach().requires_grad_();
  const torch::Tensor y = gated_activation(in, activation, fused);
  const torch::Tensor dh = torch::autograd::grad({y}, {in}, {upstream.to(y.scalar_type())})[0];
  return {y.detach(), dh};
}

// h [.., 2 * width] in `type` on the GPU; offset > 0 starts its data that many elements into a
// larger buffer, so that the pointer is not 16-byte aligned.
torch::Tensor projection(std::vector<int64_t> shape, torch::ScalarType type, int64_t offset) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  const torch::Tensor buffer = (torch::randn({n + offset}) * 3).to(kCuda, type);
  return buffer.narrow(0, offset, n).view(shape);
}

TEST(GatedActivationCuda, KernelMatchesTheReferenceForwardAndBackward) {
  REQUIRE_KERNEL();
  torch::manual_seed(11);
  struct Shape {
    std::vector<int64_t> dims;
    int64_t offset;
    const char* what;
  };
  const std::vector<Shape> shapes = {{{4, 37, 2 * 512}, 0, "16-byte packs"},
                                     {{3, 5, 2 * 13}, 0, "odd width: element-wise"},
                                     {{2, 9, 2 * 64}, 1, "unaligned pointer: element-wise"},
                                     {{70000, 2 * 8}, 0, "more rows than one grid dimension holds"}};
  for (const auto type : {torch::kFloat, torch::kBFloat16, torch::kHalf}) {
    for (const auto activation : {Activation::GatedGelu, Activation::GatedSilu}) {
      for (const auto& shape : shapes) {
        const std::string where = std::string(c10::toString(type)) + " " + name_of(activation) + " " + shape.what;
        const torch::Tensor h = projection(shape.dims, type, shape.offset);
        ASSERT_TRUE(fused_gated_activation_applies(h, activation)) << where;
        auto out_shape = shape.dims;
        out_shape.back() /= 2;
        const torch::Tensor upstream = torch::randn(out_shape).to(kCuda, type);

        const Output kernel = run(h, upstream, activation, true);
        const Output libtorch = run(h, upstream, activation, false);
        const Output reference = run(h.to(torch::kCPU, torch::kDouble), upstream.to(torch::kCPU, torch::kDouble),
                                     activation, false);
        EXPECT_EQ(kernel.y.scalar_type(), type) << where;
        EXPECT_EQ(kernel.dh.scalar_type(), type) << where;
        EXPECT_EQ(kernel.dh.sizes(), h.sizes()) << where;
        const double y_error = relative_difference(kernel.y, reference.y);
        const double dh_error = relative_difference(kernel.dh, reference.dh);
        std::printf("%-50s forward %.2e (LibTorch %.2e)  backward %.2e (LibTorch %.2e)\n", where.c_str(), y_error,
                    relative_difference(libtorch.y, reference.y), dh_error,
                    relative_difference(libtorch.dh, reference.dh));
        EXPECT_LT(y_error, tolerance(type)) << where;
        EXPECT_LT(dh_error, tolerance(type)) << where;
      }
    }
  }
}

TEST(GatedActivationCuda, ItIsOneAutogradNode) {
  REQUIRE_KERNEL();
  const torch::Tensor h = torch::randn({2, 3, 16}, torch::TensorOptions().device(kCuda)).requires_grad_();
  const torch::Tensor y = gated_activation(h, Activation::GatedGelu, true);
  ASSERT_TRUE(y.grad_fn());
  EXPECT_NE(y.grad_fn()->name().find("FusedGatedActivation"), std::string::npos) << y.grad_fn()->name();
  EXPECT_EQ(gated_activation(h, Activation::GatedGelu, false).grad_fn()->name().find("FusedGatedActivation"),
            std::string::npos);
}

#if ANKH_TORCH_CUDA
// LibTorch's current stream, not the default one: the result is the same when the caller runs on
// a stream of its own (a kernel on the wrong stream would race with the producer of h).
TEST(GatedActivationCuda, RunsOnLibTorchsCurrentStream) {
  REQUIRE_KERNEL();
  torch::manual_seed(12);
  const torch::Tensor h = torch::randn({64, 256, 2 * 1024}, torch::TensorOptions().device(kCuda));
  const torch::Tensor expected = gated_activation(h, Activation::GatedGelu, false);
  torch::Tensor y;
  {
    const c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(false, 0);
    const c10::cuda::CUDAStreamGuard guard(side);
    const torch::Tensor produced = h * 1.0;  // made on the side stream, consumed right after
    y = gated_activation(produced, Activation::GatedGelu, true);
    side.synchronize();
  }
  EXPECT_LT(relative_difference(y, expected), 1e-6);
}
#endif

}  // namespace
}  // namespace ankh::model
