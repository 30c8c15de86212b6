// `ankh export`: not part of this build yet (issue 7 replaces this file).
#include "trainer/cli/command.h"

namespace ankh::cli {

Action setup_export(CLI::App& sub) { return not_implemented("export", "issue 7"); }

}  // namespace ankh::cli
