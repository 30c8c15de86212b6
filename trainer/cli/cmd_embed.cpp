// `ankh embed`: not part of this build yet (issue 7 replaces this file).
#include "trainer/cli/command.h"

namespace ankh::cli {

Action setup_embed(CLI::App& sub) { return not_implemented("embed", "issue 7"); }

}  // namespace ankh::cli
