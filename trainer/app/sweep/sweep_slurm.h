// `ankh sweep FILE --emit-slurm SCRIPT`: a Slurm job-array script with one task per run that is
// not complete yet. Each task runs launch/slurm-run.sh (the body of launch/slurm.sbatch too) on
// its RUN/run.yaml: skip a complete run, train with the job's geometry, stop cleanly on
// `--signal=B:TERM`, requeue the task when stopped early; the requeued task resumes.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ankh::sweep {

struct SlurmOptions {
  std::string job_name = "ankh-sweep";
  std::filesystem::path ankh;         // absolute: the binary that planned the runs (ANKH_BIN's default)
  std::filesystem::path run_script;   // absolute: launch/slurm-run.sh of the checkout
  std::filesystem::path output;       // absolute sweep directory (slurm-*.out go there)
  std::filesystem::path sweep_file;   // for the header comment
  int nodes = 1;
  int ranks_per_node = 1;             // tasks per node
  int gpus_per_node = 1;              // 0: CPU nodes (no --gpus-per-node line)
  std::string time = "24:00:00";
  int signal_seconds = 300;           // SIGTERM to the batch shell this long before the time limit
  std::vector<std::string> mpirun_args;
};

// The script text for these run directories (absolute); `run_dirs` must not be empty (nothing to
// submit is the caller's message).
std::string slurm_array_script(const std::vector<std::filesystem::path>& run_dirs, const SlurmOptions& options);

// launch/slurm-run.sh of the checkout this binary was built from, or of $ANKH_HOME when set;
// IoError saying so when it is not there.
std::filesystem::path find_slurm_run_script();

}  // namespace ankh::sweep
