// `ankh bench data`: not part of this build yet (issue 3 replaces this file).
#include "trainer/bench/benchmark.h"

namespace ankh::bench {

cli::Action setup_data(CLI::App& sub) { return cli::not_implemented("bench data", "issue 3"); }

}  // namespace ankh::bench
