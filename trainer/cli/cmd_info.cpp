// `ankh info`: not part of this build yet (issue 5 replaces this file).
#include "trainer/cli/command.h"

namespace ankh::cli {

Action setup_info(CLI::App& sub) { return not_implemented("info", "issue 5"); }

}  // namespace ankh::cli
