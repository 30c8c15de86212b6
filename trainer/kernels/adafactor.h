// Adafactor's factored update for a group of same-shaped fp32 matrices [rows, cols], in three
// passes over the gradients instead of the ~17 of the stacked LibTorch step
// (trainer/optim/adafactor.h has the algorithm; the small per-row and per-column state updates
// between the passes stay LibTorch ops on [k, rows] and [k, cols] tensors):
//   1. statistics: per member, the row sums and per-tile column sums of g^2 + eps1;
//   2. update norm: per member and row tile, the sum of u^2 for u = (r_i c_j) g, and of p^2 when
//      the parameter scale is wanted;
//   3. apply: p -= ((r_i c_j) g) * scale[member].
// Members are given as device arrays of k pointers (parameters and gradients need not be
// adjacent); every sum is reduced in a fixed order (no atomics), so a step is reproducible bit
// for bit, as resuming from a checkpoint requires. Launches on `stream`; returns the launch status.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace ankh::kernels {

// Rows per tile of passes 1 and 2: column sums and update norms come out per tile,
// [k, adafactor_row_tiles(rows), ...], for the caller to sum over tiles.
constexpr int64_t kAdafactorTileRows = 16;
inline int64_t adafactor_row_tiles(int64_t rows) { return (rows + kAdafactorTileRows - 1) / kAdafactorTileRows; }

struct AdafactorGroup {
  const float* const* grads;  // device array of k pointers to [rows, cols] row-major
  float* const* params;       // device array of k pointers, same shape
  int64_t members, rows, cols;
};

// row_sums [k, rows] and col_partials [k, tiles, cols] of g^2 + eps1.
cudaError_t adafactor_statistics(const AdafactorGroup& group, float eps1, float* row_sums, float* col_partials,
                                 cudaStream_t stream);

// With row_factor [k, rows] and col_factor [k, cols] (u = (row_factor_i col_factor_j) g):
// update_partials [k, tiles] of u^2, and param_partials [k, tiles] of p^2 unless it is null.
cudaError_t adafactor_update_norm(const AdafactorGroup& group, const float* row_factor, const float* col_factor,
                                  float* update_partials, float* param_partials, cudaStream_t stream);

// p -= ((row_factor_i col_factor_j) g) * scale[member], scale [k].
cudaError_t adafactor_apply(const AdafactorGroup& group, const float* row_factor, const float* col_factor,
                            const float* scale, cudaStream_t stream);

}  // namespace ankh::kernels
