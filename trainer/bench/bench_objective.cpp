// `ankh bench objective`: not part of this build yet (issue 4 replaces this file).
#include "trainer/bench/benchmark.h"

namespace ankh::bench {

cli::Action setup_objective(CLI::App& sub) { return cli::not_implemented("bench objective", "issue 4"); }

}  // namespace ankh::bench
