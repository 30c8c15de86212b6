// `ankh bench train`: not part of this build yet (issue 6 replaces this file).
#include "trainer/bench/benchmark.h"

namespace ankh::bench {

cli::Action setup_train(CLI::App& sub) { return cli::not_implemented("bench train", "issue 6"); }

}  // namespace ankh::bench
