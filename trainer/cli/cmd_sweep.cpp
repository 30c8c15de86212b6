// `ankh sweep`: not part of this build yet (issue 8 replaces this file).
#include "trainer/cli/command.h"

namespace ankh::cli {

Action setup_sweep(CLI::App& sub) { return not_implemented("sweep", "issue 8"); }

}  // namespace ankh::cli
