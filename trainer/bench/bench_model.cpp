// `ankh bench model`: not part of this build yet (issue 5 replaces this file).
#include "trainer/bench/benchmark.h"

namespace ankh::bench {

cli::Action setup_model(CLI::App& sub) { return cli::not_implemented("bench model", "issue 5"); }

}  // namespace ankh::bench
