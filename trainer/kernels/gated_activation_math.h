// The gate functions of the gated feed-forward and their derivatives, in fp32, as LibTorch's
// CUDA kernels compute them (gelu with approximate="tanh", silu). Shared by the CUDA kernel and
// its CPU tests: the same source compiles as host code and as device code.
#pragma once

#include <cmath>

#if defined(__CUDACC__)
#define ANKH_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define ANKH_HOST_DEVICE inline
#endif

namespace ankh::kernels {

enum class GateFunction { GeluTanh, Silu };

struct GateValue {
  float value;  // f(x)
  float slope;  // f'(x)
};

// gelu(x) = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), the approximation T5 v1.1 and Ankh use.
ANKH_HOST_DEVICE GateValue gelu_tanh(float x) {
  constexpr float kBeta = 0.7978845608028654f;  // sqrt(2 / pi)
  constexpr float kKappa = 0.044715f;
  const float t = tanhf(kBeta * (x + kKappa * x * x * x));
  const float value = 0.5f * x * (1.0f + t);
  const float slope = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kBeta * (1.0f + 3.0f * kKappa * x * x);
  return {value, slope};
}

// silu(x) = x sigmoid(x); silu'(x) = s (1 + x (1 - s)).
ANKH_HOST_DEVICE GateValue silu(float x) {
  const float s = 1.0f / (1.0f + expf(-x));
  return {x * s, s * (1.0f + x * (1.0f - s))};
}

ANKH_HOST_DEVICE GateValue gate_value(GateFunction f, float x) {
  return f == GateFunction::GeluTanh ? gelu_tanh(x) : silu(x);
}

}  // namespace ankh::kernels
