// What the LibTorch glue that launches this folder's kernels shares: LibTorch's current CUDA
// stream, which the kernels must run on (ordered after the ops that produced their inputs), and
// the check of a launch. The one header here that knows LibTorch: header-only, so that
// ankh_kernels itself links none.
#pragma once

#include <c10/core/Device.h>
#include <c10/util/Exception.h>
#include <cuda_runtime_api.h>

#include "ankh/build_config.h"

#if ANKH_TORCH_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

namespace ankh::kernels {

inline cudaStream_t current_stream(const c10::Device& device) {
#if ANKH_TORCH_CUDA
  return c10::cuda::getCurrentCUDAStream(device.index()).stream();
#else
  (void)device;  // no CUDA tensors without a CUDA LibTorch: never reached with one
  return cudaStreamLegacy;
#endif
}

// Throws LibTorch's error naming the kernel when its launch failed (a bad configuration, or an
// earlier asynchronous error surfacing here).
inline void check_launch(cudaError_t status, const char* kernel) {
  TORCH_CHECK(status == cudaSuccess, "the ", kernel, " kernel did not launch: ", cudaGetErrorString(status));
}

}  // namespace ankh::kernels
