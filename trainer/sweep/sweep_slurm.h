// `ankh sweep FILE --emit-slurm SCRIPT`: a Slurm job-array script with one task per run that is
// not complete yet. Each task runs `mpirun ... ankh train RUN/run.yaml`; `--signal` makes Slurm
// send SIGTERM before the time limit or on preemption, the trainer saves a checkpoint and exits 0,
// and the task requeues itself; the requeued task resumes from that checkpoint
// (checkpoint.resume=auto). Same logic as launch/slurm.sbatch, specialised to the sweep's runs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ankh::trainer::sweep {

struct SlurmRun {
  std::string name;
  std::filesystem::path dir;  // absolute
  int64_t max_steps = 0;
};

struct SlurmOptions {
  std::string job_name = "ankh-sweep";
  std::filesystem::path ankh;         // absolute path of the ankh binary on the cluster
  std::filesystem::path output;       // absolute sweep directory (slurm-*.out go there)
  std::filesystem::path sweep_file;   // for the header comment
  int nodes = 1;
  int gpus_per_node = 1;              // ranks per node: one per GPU
  std::string time = "24:00:00";
  int signal_seconds = 300;           // SIGTERM this long before the time limit
  std::vector<std::string> mpirun_args;
};

// The script text; `runs` must not be empty (nothing to submit is the caller's message).
std::string slurm_array_script(const std::vector<SlurmRun>& runs, const SlurmOptions& options);

}  // namespace ankh::trainer::sweep
