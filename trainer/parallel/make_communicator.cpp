#include "trainer/parallel/make_communicator.h"

#include <spdlog/spdlog.h>

#include "ankh/build_config.h"
#include "core/error.h"
#include "trainer/parallel/mpi_communicator.h"
#include "trainer/parallel/nccl_communicator.h"

namespace ankh::parallel {

bool nccl_available() { return ANKH_WITH_NCCL != 0; }

std::unique_ptr<Communicator> make_communicator(const DistConfig& config, const MpiSession& session,
                                                torch::Device device) {
  WatchdogOptions watchdog;
  watchdog.timeout_s = config.timeout_s;
  Backend backend = config.backend;
  if (backend == Backend::Auto) backend = device.is_cuda() && nccl_available() ? Backend::Nccl : Backend::Mpi;

  std::unique_ptr<Communicator> comm;
  if (backend == Backend::Nccl) {
    if (!nccl_available())
      throw core::DistError("this ankh was built without NCCL", "dist.backend=nccl",
                            "rebuild with NCCL and the CUDA runtime installed (cmake -DANKH_WITH_NCCL=ON), or use "
                            "dist.backend=mpi");
    if (!device.is_cuda())
      throw core::DistError("NCCL needs a CUDA device, but this rank runs on " + device.str(), "dist.backend=nccl",
                            "use dist.backend=auto or mpi on CPU-only hosts");
#if ANKH_WITH_NCCL
    comm = std::make_unique<NcclCommunicator>(session, device, watchdog);
#endif
  } else {
    if (device.is_cuda())
      spdlog::warn("dist.backend=mpi on {}: every collective copies through host memory (slow); it lets ranks share "
                   "a GPU, which NCCL refuses, and is otherwise for tests",
                   device.str());
    comm = std::make_unique<MpiCommunicator>(session.world(), watchdog, device);
  }
  spdlog::info("communicator: {} over {} rank(s) on {} (watchdog {} s)", comm->name(), comm->size(), device.str(),
               config.timeout_s);
  return comm;
}

}  // namespace ankh::parallel
