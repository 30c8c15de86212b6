// Data-parallel ranks must hold the same parameters after every step; a silent divergence (a
// non-deterministic kernel, a missed all-reduce) would otherwise train N different models. At
// the end of a run every rank hashes its parameters' bytes and the hashes are compared.
#pragma once

#include <cstdint>

#include "trainer/parallel/communicator.h"
#include "trainer/optim/optimizer.h"

namespace ankh::trainer {

// A hash of every parameter's name, shape and bytes (copied to CPU).
uint64_t parameter_checksum(const optim::NamedParams& params);

// Collective. Returns this rank's checksum; TrainingError naming the ranks that differ from rank 0.
uint64_t check_replicas_identical(const optim::NamedParams& params, parallel::Communicator& comm);

}  // namespace ankh::trainer
