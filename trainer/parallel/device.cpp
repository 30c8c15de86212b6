#include "trainer/parallel/device.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "ankh/build_config.h"

#if ANKH_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace ankh::parallel {

int cpu_threads_per_rank(const parallel::MpiSession& mpi) {
  if (const char* omp = std::getenv("OMP_NUM_THREADS")) {
    const int n = std::atoi(omp);
    if (n > 0) return n;
  }
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / std::max(1, mpi.local_size()));
}

torch::Device choose_device(const parallel::MpiSession& mpi) {
  if (torch::cuda::is_available()) {
    const int gpus = static_cast<int>(torch::cuda::device_count());
    const int index = mpi.local_rank() % gpus;
    if (mpi.local_size() > gpus)
      spdlog::warn("{} ranks on host {} share {} GPU(s)", mpi.local_size(), mpi.hostname(), gpus);
#if ANKH_TORCH_CUDA
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(index));
#endif
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  const int threads = cpu_threads_per_rank(mpi);
  torch::set_num_threads(threads);
  spdlog::debug("CPU rank with {} intra-op thread(s)", threads);
  return torch::Device(torch::kCPU);
}

double memory_in_use(const torch::Device& device) {
#if ANKH_TORCH_CUDA
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    return static_cast<double>(stats.allocated_bytes[0].peak);
  }
#endif
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

}  // namespace ankh::parallel
