// The peak that model FLOP utilisation is measured against, so that MFU is a fraction of what the
// hardware can do and never exceeds 1:
//   1. train.peak_flops, when set (per device);
//   2. on a GPU, the dense peak of the device's precision from a table of known chips
//      (parallel/device_peaks.h); an unknown GPU falls back to the measured matmul ceiling;
//   3. on CPUs, the host's own peak: every rank of the host runs the same fp32 matmul at the same
//      time, each with its share of the host's cores (not the threads it trains with: ranks that
//      oversubscribe the cores slow a large product far more than their training), the fastest
//      of repeated products counts, and the host's total is divided among its ranks. (A rank
//      measuring alone while the others are busy, or with oversubscribed threads, mis-states the
//      host: that gave the demo 121-135 % and a plain 2-rank mpirun sweep 100.5 %.)
// The measured matmul ceiling is reported beside the peak either way.
#pragma once

#include <string>

#include <torch/types.h>

#include "trainer/parallel/mpi_env.h"

namespace ankh::trainer {

struct PeakFlops {
  double per_device = 0;      // FLOP/s one rank is measured against
  std::string source;         // e.g. "H100/H200 SXM dense bf16 (device table)", "train.peak_flops"
  double matmul_ceiling = 0;  // FLOP/s of a square matmul measured now, per device (0: not measured)
};

// Collective over the ranks of each host (`mpi.node()`): call on every rank. `configured` is
// train.peak_flops (0: not set); `dtype` the dtype the model's matmuls run in.
PeakFlops resolve_peak_flops(double configured, torch::ScalarType dtype, const torch::Device& device,
                             const parallel::MpiSession& mpi);

}  // namespace ankh::trainer
