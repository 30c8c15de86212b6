// Runs independent pieces of work on a few threads, for readers that are bound by memory or
// disk bandwidth (`ankh verify`): piece i of n goes to whichever thread is free, and the calling
// thread calls `tick` about ten times a second until all are done (a progress bar lives there,
// not in the workers). The first exception a piece throws is rethrown once all threads stop.
#pragma once

#include <cstdint>
#include <functional>

namespace ankh::core {

void parallel_for(int64_t n, int threads, const std::function<void(int64_t)>& piece,
                  const std::function<void()>& tick = {});

// The threads to use when the user gives none (0): the host's, at least one.
int default_threads(int requested);

}  // namespace ankh::core
