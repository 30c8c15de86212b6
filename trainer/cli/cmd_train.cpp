// `ankh train`: not part of this build yet (issue 6 replaces this file).
#include "trainer/cli/command.h"

namespace ankh::cli {

Action setup_train(CLI::App& sub) { return not_implemented("train", "issue 6"); }

}  // namespace ankh::cli
