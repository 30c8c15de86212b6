// The `ankh` executable: everything happens in the subcommands (trainer/app/cli/).
#include "trainer/app/cli/command.h"

int main(int argc, char** argv) { return ankh::cli::run_main(argc, argv); }
