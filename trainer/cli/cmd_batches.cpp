// `ankh batches`: not part of this build yet (issue 3 replaces this file).
#include "trainer/cli/command.h"

namespace ankh::cli {

Action setup_batches(CLI::App& sub) { return not_implemented("batches", "issue 3"); }

}  // namespace ankh::cli
