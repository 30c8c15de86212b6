// The dense peak FLOP/s of known accelerators, per precision: what model FLOP utilisation is
// measured against on a GPU (MFU is a fraction of what the chip can do, not of what a benchmark
// reached). Sparse ("with sparsity") figures are never used.
#pragma once

#include <optional>
#include <string>

#include <torch/types.h>

namespace ankh::parallel {

struct DevicePeak {
  std::string device;  // the table's name for it, e.g. "H100/H200 SXM"
  double flops = 0;    // dense peak in the requested precision, FLOP/s
};

// The entry for a CUDA device name as the driver reports it ("NVIDIA H200", "NVIDIA A100-SXM4-80GB")
// and the dtype the model's matmuls run in (bf16 under autocast, else fp32 without TF32, which
// LibTorch leaves off for matmuls). nullopt for a device or dtype the table does not know.
std::optional<DevicePeak> dense_peak_flops(const std::string& device_name, torch::ScalarType dtype);

// The name the CUDA driver reports for `device` ("" on the CPU or in a build without CUDA).
std::string cuda_device_name(const torch::Device& device);

}  // namespace ankh::parallel
