// GPU suite placeholder check: CUDA tensors round-trip when a GPU is present; skips otherwise.
#include <gtest/gtest.h>
#include <torch/torch.h>

TEST(Gpu, CudaTensorRoundTrip) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device (or CPU-only LibTorch)";
  auto x = torch::arange(1024, torch::kFloat32);
  auto y = x.to(torch::kCUDA).mul(2).cpu();
  EXPECT_TRUE(torch::equal(y, x * 2));
}
