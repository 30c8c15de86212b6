// `ankh preprocess`: not part of this build yet (issue 3 replaces this file).
#include "trainer/cli/command.h"

namespace ankh::cli {

Action setup_preprocess(CLI::App& sub) { return not_implemented("preprocess", "issue 3"); }

}  // namespace ankh::cli
