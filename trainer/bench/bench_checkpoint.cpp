// `ankh bench checkpoint`: not part of this build yet (issue 7 replaces this file).
#include "trainer/bench/benchmark.h"

namespace ankh::bench {

cli::Action setup_checkpoint(CLI::App& sub) { return cli::not_implemented("bench checkpoint", "issue 7"); }

}  // namespace ankh::bench
