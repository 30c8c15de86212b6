// Small agreements between ranks, through the communicator (so they are ordered with every other
// collective and covered by its watchdog).
#pragma once

#include "trainer/parallel/communicator.h"

namespace ankh::parallel {

// True on every rank when `flag` is true on at least one (e.g. a rank caught SIGTERM or SIGINT:
// every rank stops after this step). Collective.
bool any_rank(bool flag, Communicator& comm);

// True on every rank when `flag` is true on all of them. Collective.
bool all_ranks(bool flag, Communicator& comm);

}  // namespace ankh::parallel
