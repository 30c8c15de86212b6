// A subcommand of `ankh`. Each lives in its own cmd_<name>.cpp; commands.cpp lists them all.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace ankh::cli {

// What a command runs once the command line is parsed; returns the process exit status.
using Action = std::function<int()>;

struct Command {
  const char* name;
  const char* summary;
  // Declares the command's options and positionals on `sub` and returns its action. The options
  // are bound to state the action captures, so nothing is global.
  Action (*setup)(CLI::App& sub);
};

// The one registry of subcommands, in the order `ankh --help` lists them.
const std::vector<Command>& commands();

// Parses argv, runs the chosen command, catches every error once: logs it, aborts the MPI job
// when there is one, and returns the exit status.
int run_main(int argc, char** argv);

}  // namespace ankh::cli
