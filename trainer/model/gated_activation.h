// The gated feed-forward's activation, y = f(gate) * up (f: gelu with the tanh approximation, or
// silu), from the fused wi_0/wi_1 projection [..., 2 * d_ff] with the gate first.
#pragma once

#include <torch/torch.h>

#include "trainer/model/model_config.h"

namespace ankh::model {

// f(gate) * up. fused: by ankh's CUDA kernel (trainer/kernels/gated_activation.h: one pass each
// way, the gradient written as one [..., 2 * d_ff] tensor) when fused_gated_activation_applies;
// otherwise LibTorch's gelu/silu and mul, which are also the reference the GPU test compares the
// kernel with.
torch::Tensor gated_activation(const torch::Tensor& gate_up, Activation activation, bool fused);

// f(gate) * up from separate tensors (the unfused projections), by LibTorch's ops.
torch::Tensor gated_activation(const torch::Tensor& gate, const torch::Tensor& up, Activation activation);

// Whether this ankh was built with the kernel and with a CUDA LibTorch to call it from.
bool fused_gated_activation_built();
// Whether gated_activation(gate_up, activation, /*fused=*/true) runs the kernel for this input:
// built, a CUDA tensor of fp32, bf16 or fp16, a gated activation.
bool fused_gated_activation_applies(const torch::Tensor& gate_up, Activation activation);

}  // namespace ankh::model
