#include "trainer/parallel/device_peaks.h"

#include <vector>

#include "ankh/build_config.h"

#if ANKH_TORCH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

namespace ankh::parallel {

namespace {

struct Entry {
  const char* match;    // a substring of the driver's device name
  const char* exclude;  // ... that must not also appear ("" for none)
  const char* name;
  double bf16, fp32;    // dense TFLOP/s; 0 when the chip has no such tensor path
};

// Dense (not sparse) peaks from NVIDIA's data sheets: H100 and H200 Tensor Core GPU data sheets
// (SXM: BF16 989 TFLOP/s, FP32 67; PCIe/NVL: BF16 756, FP32 51), A100 data sheet (BF16 312,
// FP32 19.5), L40S (BF16 362, FP32 91.6), L4 (BF16 121, FP32 30.3), A10 (BF16 125, FP32 31.2),
// V100 SXM2 (no BF16; FP32 15.7). More specific names come first ("A100" before "A10",
// "L40S" before "L4").
const std::vector<Entry>& table() {
  static const std::vector<Entry> entries = {
      {"H200", "", "H200 SXM", 989, 67},
      {"H100", "PCIe", "H100 SXM", 989, 67},
      {"H100", "", "H100 PCIe", 756, 51},
      {"A100", "", "A100", 312, 19.5},
      {"L40S", "", "L40S", 362, 91.6},
      {"L4", "", "L4", 121, 30.3},
      {"A10", "", "A10", 125, 31.2},
      {"V100", "", "V100 SXM2", 0, 15.7},
  };
  return entries;
}

}  // namespace

std::optional<DevicePeak> dense_peak_flops(const std::string& device_name, torch::ScalarType dtype) {
  for (const auto& e : table()) {
    if (device_name.find(e.match) == std::string::npos) continue;
    if (*e.exclude && device_name.find(e.exclude) != std::string::npos) continue;
    const double tflops = dtype == torch::kBFloat16 ? e.bf16 : dtype == torch::kFloat32 ? e.fp32 : 0;
    if (tflops <= 0) return std::nullopt;
    return DevicePeak{e.name, tflops * 1e12};
  }
  return std::nullopt;
}

std::string cuda_device_name(const torch::Device& device) {
#if ANKH_TORCH_CUDA
  if (device.is_cuda()) return at::cuda::getDeviceProperties(device.index())->name;
#endif
  (void)device;
  return "";
}

}  // namespace ankh::parallel
