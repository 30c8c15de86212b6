// The gated feed-forward's activation in one pass: y = f(gate) * up, and its backward, reading the
// fused wi_0/wi_1 projection [rows, 2 * width] (gate in the first `width` columns of each row,
// up in the rest) and writing the gradient in that same layout, so that autograd needs no split
// and no concatenation. Forward: 2 reads and 1 write per output element (LibTorch's gelu then
// mul: 3 reads, 2 writes); backward: 3 reads and 2 writes (LibTorch's: 7 reads, 4 writes, plus
// the concatenation of the two gradients). Math in fp32, one rounding to the element type.
// Contiguous row-major tensors on the current device; launches on `stream`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "trainer/kernels/gated_activation_math.h"

namespace ankh::kernels {

enum class ElementType { Float32, BFloat16, Float16 };

// out[r, c] = f(h[r, c]) * h[r, width + c]
cudaError_t gated_activation_forward(ElementType type, GateFunction f, const void* h, void* out, int64_t rows,
                                     int64_t width, cudaStream_t stream);

// dh[r, c] = dout[r, c] * h[r, width + c] * f'(h[r, c]);  dh[r, width + c] = dout[r, c] * f(h[r, c])
cudaError_t gated_activation_backward(ElementType type, GateFunction f, const void* h, const void* dout, void* dh,
                                      int64_t rows, int64_t width, cudaStream_t stream);

}  // namespace ankh::kernels
