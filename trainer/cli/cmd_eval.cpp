// `ankh eval`: not part of this build yet (issue 6 replaces this file).
#include "trainer/cli/command.h"

namespace ankh::cli {

Action setup_eval(CLI::App& sub) { return not_implemented("eval", "issue 6"); }

}  // namespace ankh::cli
