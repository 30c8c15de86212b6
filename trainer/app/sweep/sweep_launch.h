// Launching one run of a sweep: the command line (`mpirun -np N ... ankh train RUN/run.yaml`),
// and a child process with its output in RUN/sweep.log that a signal to the sweep reaches.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ankh::sweep {

struct LaunchOptions {
  int np = 1;
  bool use_mpirun = true;                 // false: `ankh train` directly (np == 1 only)
  std::string mpirun = "mpirun";          // looked up in PATH
  std::vector<std::string> mpirun_args;   // given by the user, appended after -np N
  bool open_mpi = false;                  // mpirun is Open MPI's (see detect_open_mpi)
  std::filesystem::path ankh;             // this executable
};

// True when `mpirun --version` names Open MPI; empty string when mpirun cannot be run at all
// is reported by `check_mpirun`.
bool detect_open_mpi(const std::string& mpirun);
// IoError with a hint when `mpirun` is not an executable found in PATH (or a path).
void check_mpirun(const std::string& mpirun);

// The argv of one run. With Open MPI, `--oversubscribe` is added when np exceeds this host's
// cores and no mpirun arguments were given (a one-host sweep on a small machine).
std::vector<std::string> launch_command(const LaunchOptions& options, const std::filesystem::path& run_config);

// Environment additions for the child: Open MPI refuses to start as root unless told; the sweep
// sets that for its own children only (never for the user's shell).
std::vector<std::string> launch_environment(const LaunchOptions& options);

// Shell-quoted command line, for logs and --dry-run.
std::string shell_join(const std::vector<std::string>& argv);

// Runs `argv` with stdout and stderr appended to `log_file` and waits. The first SIGINT/SIGTERM
// received by the sweep meanwhile reaches the child as SIGUSR1 (mpirun passes it on; every rank
// finishes its step, saves a checkpoint and exits 0), a second as SIGTERM (the run ends at once);
// both are recorded: see interrupted(). Returns the exit status, or 128 + signal number.
int run_logged(const std::vector<std::string>& argv, const std::vector<std::string>& env,
               const std::filesystem::path& log_file);

// Installs the SIGINT/SIGTERM handlers used by run_logged (once per process).
void install_sweep_signal_handlers();
// The signal that asked the sweep to stop (0: none).
int interrupted();

// The last line of `log_file` that looks like an error ("[error]", "error:", "Error"), trimmed;
// empty when there is none. Read from the end, so large logs cost little.
std::string last_error_line(const std::filesystem::path& log_file);

}  // namespace ankh::sweep
