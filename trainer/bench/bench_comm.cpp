// `ankh bench comm`: not part of this build yet (issue 6 replaces this file).
#include "trainer/bench/benchmark.h"

namespace ankh::bench {

cli::Action setup_comm(CLI::App& sub) { return cli::not_implemented("bench comm", "issue 6"); }

}  // namespace ankh::bench
