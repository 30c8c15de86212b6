#include "trainer/kernels/adafactor.h"


namespace ankh::kernels {

namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// The block's sum of v, in a fixed order, valid in thread 0. `scratch` holds kWarps floats.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  v = warp_sum(v);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float total = 0;
  if (threadIdx.x == 0)
    for (int w = 0; w < kWarps; ++w) total += scratch[w];
  return total;
}

// Block (tile, member): rows [tile * kTileRows, ...) of one member; thread t walks columns
// t, t + kThreads, ... (coalesced), summing each column over the tile and each row over its columns.
__global__ void statistics_kernel(AdafactorGroup group, float eps1, float* row_sums, float* col_partials) {
  __shared__ float scratch[kWarps];
  const int64_t member = blockIdx.y, tile = blockIdx.x;
  const int64_t rows = group.rows, cols = group.cols, tiles = gridDim.x;
  const int64_t first = tile * kAdafactorTileRows;
  const int n = static_cast<int>(min(kAdafactorTileRows, rows - first));  // rows in this tile
  const float* g = group.grads[member] + first * cols;
  float row_acc[kAdafactorTileRows];
#pragma unroll
  for (int i = 0; i < kAdafactorTileRows; ++i) row_acc[i] = 0;
  for (int64_t j = threadIdx.x; j < cols; j += kThreads) {
    float col_acc = 0;
#pragma unroll
    for (int i = 0; i < kAdafactorTileRows; ++i) {
      if (i < n) {
        const float x = g[i * cols + j];
        const float s = x * x + eps1;
        col_acc += s;
        row_acc[i] += s;
      }
    }
    col_partials[(member * tiles + tile) * cols + j] = col_acc;
  }
#pragma unroll
  for (int i = 0; i < kAdafactorTileRows; ++i) {
    const float total = block_sum(row_acc[i], scratch);
    if (threadIdx.x == 0 && i < n) row_sums[member * rows + first + i] = total;
  }
}

__global__ void update_norm_kernel(AdafactorGroup group, const float* row_factor, const float* col_factor,
                                   float* update_partials, float* param_partials) {
  __shared__ float scratch[kWarps];
  const int64_t member = blockIdx.y, tile = blockIdx.x;
  const int64_t rows = group.rows, cols = group.cols, tiles = gridDim.x;
  const int64_t first = tile * kAdafactorTileRows;
  const int64_t last = min(first + kAdafactorTileRows, rows);
  const float* g = group.grads[member];
  const float* p = group.params[member];
  const float* r = row_factor + member * rows;
  const float* c = col_factor + member * cols;
  float u_acc = 0, p_acc = 0;
  for (int64_t i = first; i < last; ++i) {
    for (int64_t j = threadIdx.x; j < cols; j += kThreads) {
      const float u = (r[i] * c[j]) * g[i * cols + j];
      u_acc += u * u;
      if (param_partials != nullptr) {
        const float x = p[i * cols + j];
        p_acc += x * x;
      }
    }
  }
  const float u_total = block_sum(u_acc, scratch);
  if (threadIdx.x == 0) update_partials[member * tiles + tile] = u_total;
  if (param_partials != nullptr) {
    const float p_total = block_sum(p_acc, scratch);
    if (threadIdx.x == 0) param_partials[member * tiles + tile] = p_total;
  }
}

// Block (tile, member), as the passes before: no index division per element.
__global__ void apply_kernel(AdafactorGroup group, const float* row_factor, const float* col_factor,
                             const float* scale) {
  const int64_t member = blockIdx.y, tile = blockIdx.x;
  const int64_t rows = group.rows, cols = group.cols;
  const int64_t first = tile * kAdafactorTileRows;
  const int64_t last = min(first + kAdafactorTileRows, rows);
  const float* g = group.grads[member];
  float* p = group.params[member];
  const float* r = row_factor + member * rows;
  const float* c = col_factor + member * cols;
  const float s = scale[member];
  for (int64_t i = first; i < last; ++i)
    for (int64_t j = threadIdx.x; j < cols; j += kThreads) p[i * cols + j] -= ((r[i] * c[j]) * g[i * cols + j]) * s;
}

bool valid(const AdafactorGroup& group) {
  return group.members > 0 && group.members <= 65535 && group.rows > 0 && group.cols > 0;
}

dim3 tile_grid(const AdafactorGroup& group) {
  return dim3(static_cast<unsigned>(adafactor_row_tiles(group.rows)), static_cast<unsigned>(group.members));
}

}  // namespace

cudaError_t adafactor_statistics(const AdafactorGroup& group, float eps1, float* row_sums, float* col_partials,
                                 cudaStream_t stream) {
  if (!valid(group)) return cudaErrorInvalidValue;
  statistics_kernel<<<tile_grid(group), kThreads, 0, stream>>>(group, eps1, row_sums, col_partials);
  return cudaGetLastError();
}

cudaError_t adafactor_update_norm(const AdafactorGroup& group, const float* row_factor, const float* col_factor,
                                  float* update_partials, float* param_partials, cudaStream_t stream) {
  if (!valid(group)) return cudaErrorInvalidValue;
  update_norm_kernel<<<tile_grid(group), kThreads, 0, stream>>>(group, row_factor, col_factor, update_partials,
                                                                 param_partials);
  return cudaGetLastError();
}

cudaError_t adafactor_apply(const AdafactorGroup& group, const float* row_factor, const float* col_factor,
                            const float* scale, cudaStream_t stream) {
  if (!valid(group)) return cudaErrorInvalidValue;
  apply_kernel<<<tile_grid(group), kThreads, 0, stream>>>(group, row_factor, col_factor, scale);
  return cudaGetLastError();
}

}  // namespace ankh::kernels
