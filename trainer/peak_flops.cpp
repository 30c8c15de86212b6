#include "trainer/peak_flops.h"

#include <sched.h>

#include <algorithm>
#include <thread>

#include <torch/torch.h>

#include "trainer/model/throughput.h"
#include "trainer/parallel/device_peaks.h"

namespace ankh::trainer {

namespace {

// The square products the ceiling is measured with: large enough to run at the device's matmul
// peak, short enough to cost about a second at start.
constexpr int64_t kCpuMatmul = 2048, kGpuMatmul = 8192;

// Threads for this rank's share of the host: its cores (affinity), at most the host's cores over
// its ranks. Not the threads the run trains with: ranks that oversubscribe the cores (2 ranks x
// 2 threads on 2 cores, as plain mpirun leaves them) slow a large product far more than their
// training, and a ceiling measured that way is one the training passes.
int host_share_threads(int local_ranks) {
  cpu_set_t set;
  CPU_ZERO(&set);
  const int mine = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  const int host = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  return std::max(1, std::min(mine, host / std::max(1, local_ranks)));
}

// Every rank of this host runs the product at once; the host's total, shared equally.
double host_share_of_matmul(torch::ScalarType dtype, const parallel::MpiSession& mpi) {
  const int training_threads = torch::get_num_threads();
  torch::set_num_threads(host_share_threads(mpi.local_size()));
  parallel::check_mpi(MPI_Barrier(mpi.node()), "MPI_Barrier (start of the host's matmul measurement)");
  const double mine = model::matmul_flops_per_second(kCpuMatmul, dtype, torch::Device(torch::kCPU), 0.5);
  torch::set_num_threads(training_threads);
  double host = mine;
  parallel::check_mpi(MPI_Allreduce(&mine, &host, 1, MPI_DOUBLE, MPI_SUM, mpi.node()),
                      "MPI_Allreduce (the host's matmul FLOP/s)");
  return host / static_cast<double>(mpi.local_size());
}

}  // namespace

PeakFlops resolve_peak_flops(double configured, torch::ScalarType dtype, const torch::Device& device,
                             const parallel::MpiSession& mpi) {
  PeakFlops p;
  const std::string precision = dtype == torch::kBFloat16 ? "bf16" : "fp32";
  if (device.is_cuda()) {
    p.matmul_ceiling = model::matmul_flops_per_second(kGpuMatmul, dtype, device, 1.0);
    const std::string name = parallel::cuda_device_name(device);
    if (configured > 0) {
      p = {configured, "train.peak_flops", p.matmul_ceiling};
    } else if (const auto known = parallel::dense_peak_flops(name, dtype)) {
      p.per_device = known->flops;
      p.source = known->device + " dense " + precision + " peak (device table)";
    } else {
      p.per_device = p.matmul_ceiling;
      p.source = "measured " + precision + " matmul: " + name + " is not in the device table (set train.peak_flops)";
    }
    return p;
  }
  if (configured > 0) return {configured, "train.peak_flops", 0};  // the test harness's way to skip measuring
  // A CPU has no published peak that holds for its clock, vector width and thread count; what
  // the ranks of this host reach together on a large matmul is the honest ceiling. (Another job
  // loading the cores during this second and not later could still push MFU past 1.)
  p.matmul_ceiling = host_share_of_matmul(dtype, mpi);
  p.per_device = p.matmul_ceiling;
  p.source = "this host's " + precision + " matmul, measured by its " + std::to_string(mpi.local_size()) +
             " rank(s) together and shared among them";
  return p;
}

}  // namespace ankh::trainer
