// Running an external program (BLAST's makeblastdb, blastp, blastdbcmd) from library code: an
// argv vector, never a shell, so that no file name is ever split or expanded; errors that name
// the program and say how to get it, or what it printed before it failed.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ankh::core {

struct ProgramOptions {
  // Where the program's standard output goes (created or truncated). Empty: captured together
  // with its standard error, so that what it says before failing is not lost.
  std::filesystem::path stdout_path;
  // The directory the program runs in; empty: this process's. (BLAST+ splits some path
  // arguments at spaces, so its callers pass names relative to a directory given here.)
  std::filesystem::path working_dir;
  // The hint of the IoError thrown when the program is not on PATH
  // (e.g. "install ncbi-blast+ (scripts/setup.sh)").
  std::string missing_hint;
};

struct ProgramResult {
  // The end (at most 64 KiB) of what the program wrote to standard error, and to standard
  // output when that was not redirected.
  std::string output;
};

// Runs argv[0] (looked up on PATH) with the arguments argv[1..], standard input from /dev/null,
// and waits for it. Throws IoError naming the program: with `options.missing_hint` when it is
// not found, with the exit status (or signal) and the last lines of its output when it fails.
ProgramResult run_program(const std::vector<std::string>& argv, const ProgramOptions& options = {});

// The executable file that `name` resolves to on PATH (a name with a '/' is taken as is), or
// nothing: for callers that want to skip a step rather than fail.
std::optional<std::filesystem::path> find_program(const std::string& name);

}  // namespace ankh::core
