#include "trainer/parallel/device.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "ankh/build_config.h"
#include "core/error.h"

#if ANKH_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace ankh::parallel {

int cpu_threads_per_rank(const MpiSession& mpi) {
  if (const char* omp = std::getenv("OMP_NUM_THREADS")) {
    const int n = std::atoi(omp);
    if (n > 0) return n;
  }
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / std::max(1, mpi.local_size()));
}

const core::Choices<DeviceKind>& device_kinds() {
  static const core::Choices<DeviceKind> table{{DeviceKind::Auto, "auto"}, {DeviceKind::Cpu, "cpu"}, {DeviceKind::Cuda, "cuda"}};
  return table;
}

torch::Device choose_device(DeviceKind requested, int local_rank, const std::string& option) {
  const bool cuda = torch::cuda::is_available();
  if (requested == DeviceKind::Cpu || (requested == DeviceKind::Auto && !cuda)) return torch::Device(torch::kCPU);
  if (!cuda)
    throw core::UsageError("no CUDA device is available (a CPU-only LibTorch, or no GPU visible)", option + " cuda",
                           "use " + option + " cpu");
  const int gpus = static_cast<int>(torch::cuda::device_count());
  const auto index = static_cast<c10::DeviceIndex>(local_rank % gpus);
#if ANKH_TORCH_CUDA
  c10::cuda::set_device(index);
#endif
  return torch::Device(torch::kCUDA, index);
}

torch::Device choose_device(const MpiSession& mpi) {
  const torch::Device device = choose_device(DeviceKind::Auto, mpi.local_rank(), "device");
  if (device.is_cuda()) {
    const int gpus = static_cast<int>(torch::cuda::device_count());
    if (mpi.local_size() > gpus)
      spdlog::warn("{} ranks on host {} share {} GPU(s)", mpi.local_size(), mpi.hostname(), gpus);
    return device;
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

void reset_memory_peak(const torch::Device& device) {
#if ANKH_TORCH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
#endif
}

}  // namespace ankh::parallel
