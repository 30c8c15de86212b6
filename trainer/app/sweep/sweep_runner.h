// `ankh sweep`: plan every run (validated before anything starts), then run them one after another
// (skipping those already complete), or write a Slurm job array; summarise and plot at the end.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ankh::sweep {

struct SweepOptions {
  std::filesystem::path sweep_file;
  std::filesystem::path output;             // empty: runs/sweeps/<sweep name>
  std::vector<std::string> overrides;       // key=value for every run, after the sweep's overrides
  int np = 1;
  bool dry_run = false;
  bool summary_only = false;                // summarise and plot what the run directories hold; run nothing
  std::string mpirun;                       // empty: "mpirun" (not used for --np 1)
  std::string mpirun_args;                  // split on whitespace
  std::filesystem::path emit_slurm;         // non-empty: write a job-array script instead of running
  // --emit-slurm: ranks = nodes x ranks per node; ranks per node defaults to one per GPU, and
  // must be given for CPU nodes (gpus_per_node 0).
  int nodes = 1, gpus_per_node = 1, ranks_per_node_given = 0;
  int ranks_per_node() const { return ranks_per_node_given > 0 ? ranks_per_node_given : gpus_per_node; }
  std::string time = "24:00:00";
  std::filesystem::path plot_script;        // empty: scripts/plot_runs.py of this source tree
  bool plot = true;
  std::string command_line;                 // as invoked, for the summary
};

// Returns the process exit status: 0 when every run is complete; throws core::Error after
// summarising when a run failed; 128 + signal when the sweep was interrupted.
int run_sweep(const SweepOptions& options);

}  // namespace ankh::sweep
