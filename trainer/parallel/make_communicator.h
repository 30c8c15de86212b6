// Chooses and creates the communicator for `dist.backend` and the rank's device.
#pragma once

#include <memory>

#include "trainer/parallel/communicator.h"
#include "trainer/parallel/dist_config.h"
#include "trainer/parallel/mpi_env.h"

namespace ankh::parallel {

// True when this build has the NCCL communicator (ANKH_WITH_NCCL).
bool nccl_available();

// `auto`: NCCL for a CUDA device when compiled in, MPI otherwise. `nccl` on a CPU device or in a
// build without NCCL, and `mpi` on a CUDA device, are errors (DistError naming dist.backend).
// Collective: every rank calls it, with the same config. The watchdog uses dist.timeout_s.
std::unique_ptr<Communicator> make_communicator(const DistConfig& config, const MpiSession& session,
                                                torch::Device device);

}  // namespace ankh::parallel
