// Which device a rank trains on: CUDA device `local_rank % gpus` when LibTorch has CUDA and the
// host has GPUs, else the CPU (with its cores shared between the ranks on this host).
#pragma once

#include <torch/torch.h>

#include "trainer/parallel/mpi_env.h"

namespace ankh::parallel {

torch::Device choose_device(const parallel::MpiSession& mpi);

// Intra-op threads for a CPU rank: OMP_NUM_THREADS when set, else the host's cores divided by
// the ranks on this host (at least 1), so that ranks do not fight over cores.
int cpu_threads_per_rank(const parallel::MpiSession& mpi);

// Bytes of device memory in use at the peak since start (CUDA) or resident set size (CPU).
double memory_in_use(const torch::Device& device);

}  // namespace ankh::parallel
