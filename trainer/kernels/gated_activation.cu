#include "trainer/kernels/gated_activation.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>

namespace ankh::kernels {

namespace {

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }

// Round to nearest even, as LibTorch's casts.
template <typename T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) { return x; }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }
template <>
__device__ __forceinline__ __half from_float<__half>(float x) { return __float2half_rn(x); }

// kVec consecutive elements moved as one load or store (16 bytes when kVec * sizeof(T) == 16).
template <typename T, int kVec>
struct alignas(sizeof(T) * kVec) Pack {
  T v[kVec];
};

template <typename T, int kVec>
__device__ __forceinline__ Pack<T, kVec> load(const T* p) {
  return *reinterpret_cast<const Pack<T, kVec>*>(p);
}

template <typename T, int kVec>
__device__ __forceinline__ void store(T* p, const Pack<T, kVec>& x) {
  *reinterpret_cast<Pack<T, kVec>*>(p) = x;
}

// Blocks tile a row in x (packs of kVec columns) and walk the rows in y; a row is 2 * width
// elements of h, width of out. Grid-stride in both, so any grid covers any shape.
template <typename T, int kVec, GateFunction kGate>
__global__ void forward_kernel(const T* __restrict__ h, T* __restrict__ out, int64_t rows, int64_t width) {
  const int64_t packs = width / kVec;
  for (int64_t row = blockIdx.y; row < rows; row += gridDim.y) {
    const T* gate = h + row * 2 * width;
    const T* up = gate + width;
    T* y = out + row * width;
    for (int64_t p = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; p < packs; p += int64_t{gridDim.x} * blockDim.x) {
      const Pack<T, kVec> g = load<T, kVec>(gate + p * kVec);
      const Pack<T, kVec> u = load<T, kVec>(up + p * kVec);
      Pack<T, kVec> r;
#pragma unroll
      for (int i = 0; i < kVec; ++i)
        r.v[i] = from_float<T>(gate_value(kGate, to_float(g.v[i])).value * to_float(u.v[i]));
      store<T, kVec>(y + p * kVec, r);
    }
  }
}

template <typename T, int kVec, GateFunction kGate>
__global__ void backward_kernel(const T* __restrict__ h, const T* __restrict__ dout, T* __restrict__ dh, int64_t rows,
                                int64_t width) {
  const int64_t packs = width / kVec;
  for (int64_t row = blockIdx.y; row < rows; row += gridDim.y) {
    const T* gate = h + row * 2 * width;
    const T* up = gate + width;
    const T* dy = dout + row * width;
    T* dgate = dh + row * 2 * width;
    T* dup = dgate + width;
    for (int64_t p = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; p < packs; p += int64_t{gridDim.x} * blockDim.x) {
      const Pack<T, kVec> g = load<T, kVec>(gate + p * kVec);
      const Pack<T, kVec> u = load<T, kVec>(up + p * kVec);
      const Pack<T, kVec> d = load<T, kVec>(dy + p * kVec);
      Pack<T, kVec> dg, du;
#pragma unroll
      for (int i = 0; i < kVec; ++i) {
        const GateValue f = gate_value(kGate, to_float(g.v[i]));
        const float grad = to_float(d.v[i]);
        dg.v[i] = from_float<T>(grad * to_float(u.v[i]) * f.slope);
        du.v[i] = from_float<T>(grad * f.value);
      }
      store<T, kVec>(dgate + p * kVec, dg);
      store<T, kVec>(dup + p * kVec, du);
    }
  }
}

constexpr int kThreads = 128;
constexpr int64_t kMaxGridY = 65535;  // CUDA's limit for gridDim.y

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

dim3 grid_for(int64_t rows, int64_t packs) {
  const int64_t x = std::max<int64_t>(1, std::min<int64_t>((packs + kThreads - 1) / kThreads, 1024));
  const int64_t y = std::max<int64_t>(1, std::min(rows, kMaxGridY));
  return dim3(static_cast<unsigned>(x), static_cast<unsigned>(y));
}

// Picks the widest pack the shape and pointers allow: every row of h, dh and out must start on a
// 16-byte boundary, which width * sizeof(T) % 16 == 0 and 16-byte-aligned bases give.
template <typename T, GateFunction kGate>
cudaError_t forward_typed(const void* h, void* out, int64_t rows, int64_t width, cudaStream_t stream) {
  constexpr int kWide = 16 / sizeof(T);
  const T* in = static_cast<const T*>(h);
  T* y = static_cast<T*>(out);
  if (width % kWide == 0 && aligned16(h) && aligned16(out))
    forward_kernel<T, kWide, kGate><<<grid_for(rows, width / kWide), kThreads, 0, stream>>>(in, y, rows, width);
  else
    forward_kernel<T, 1, kGate><<<grid_for(rows, width), kThreads, 0, stream>>>(in, y, rows, width);
  return cudaGetLastError();
}

template <typename T, GateFunction kGate>
cudaError_t backward_typed(const void* h, const void* dout, void* dh, int64_t rows, int64_t width,
                           cudaStream_t stream) {
  constexpr int kWide = 16 / sizeof(T);
  const T* in = static_cast<const T*>(h);
  const T* dy = static_cast<const T*>(dout);
  T* dx = static_cast<T*>(dh);
  if (width % kWide == 0 && aligned16(h) && aligned16(dout) && aligned16(dh))
    backward_kernel<T, kWide, kGate><<<grid_for(rows, width / kWide), kThreads, 0, stream>>>(in, dy, dx, rows, width);
  else
    backward_kernel<T, 1, kGate><<<grid_for(rows, width), kThreads, 0, stream>>>(in, dy, dx, rows, width);
  return cudaGetLastError();
}

// Calls fn.template operator()<T, kGate>() for the runtime element type and gate function.
template <typename Fn>
cudaError_t dispatch(ElementType type, GateFunction f, Fn&& fn) {
  auto with_type = [&](auto zero) {
    using T = decltype(zero);
    return f == GateFunction::GeluTanh ? fn.template operator()<T, GateFunction::GeluTanh>()
                                       : fn.template operator()<T, GateFunction::Silu>();
  };
  switch (type) {
    case ElementType::Float32: return with_type(float{});
    case ElementType::BFloat16: return with_type(__nv_bfloat16{});
    case ElementType::Float16: return with_type(__half{});
  }
  return cudaErrorInvalidValue;
}

struct ForwardLaunch {
  const void* h;
  void* out;
  int64_t rows, width;
  cudaStream_t stream;
  template <typename T, GateFunction kGate>
  cudaError_t operator()() const { return forward_typed<T, kGate>(h, out, rows, width, stream); }
};

struct BackwardLaunch {
  const void* h;
  const void* dout;
  void* dh;
  int64_t rows, width;
  cudaStream_t stream;
  template <typename T, GateFunction kGate>
  cudaError_t operator()() const { return backward_typed<T, kGate>(h, dout, dh, rows, width, stream); }
};

}  // namespace

cudaError_t gated_activation_forward(ElementType type, GateFunction f, const void* h, void* out, int64_t rows,
                                     int64_t width, cudaStream_t stream) {
  if (rows == 0 || width == 0) return cudaSuccess;
  return dispatch(type, f, ForwardLaunch{h, out, rows, width, stream});
}

cudaError_t gated_activation_backward(ElementType type, GateFunction f, const void* h, const void* dout, void* dh,
                                      int64_t rows, int64_t width, cudaStream_t stream) {
  if (rows == 0 || width == 0) return cudaSuccess;
  return dispatch(type, f, BackwardLaunch{h, dout, dh, rows, width, stream});
}

}  // namespace ankh::kernels
