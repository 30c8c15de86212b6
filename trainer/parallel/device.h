// Which device a process computes on. The one place that turns a request (`auto`, `cpu`, `cuda`)
// and a local rank into a torch::Device: training, evaluation, embedding and the benchmarks all
// call it.
#pragma once

#include <string>

#include <torch/types.h>

#include "core/choices.h"
#include "trainer/parallel/mpi_env.h"

namespace ankh::parallel {

enum class DeviceKind { Auto, Cpu, Cuda };
const core::Choices<DeviceKind>& device_kinds();  // auto | cpu | cuda
inline const char* name_of(DeviceKind k) { return device_kinds().name(k); }

// cpu: the CPU. cuda: CUDA device `local_rank % GPUs`, made current; UsageError naming `option`
// when LibTorch sees no CUDA device. auto: cuda when one is available, else cpu.
torch::Device choose_device(DeviceKind requested, int local_rank, const std::string& option);

// A training or evaluation rank: auto for its local rank (warning when ranks share a GPU); on the
// CPU, also sets LibTorch's intra-op threads to cpu_threads_per_rank().
torch::Device choose_device(const MpiSession& mpi);

// Intra-op threads for a CPU rank: OMP_NUM_THREADS when set, else the host's cores divided by
// the ranks on this host (at least 1), so that ranks do not fight over cores.
int cpu_threads_per_rank(const MpiSession& mpi);

// Bytes of device memory in use at the peak since start (CUDA) or resident set size (CPU).
double memory_in_use(const torch::Device& device);
// Starts memory_in_use's CUDA peak afresh from what is allocated now (CPU: nothing to reset).
void reset_memory_peak(const torch::Device& device);

}  // namespace ankh::parallel
