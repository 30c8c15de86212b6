// `ankh sweep SWEEP.yaml [key=value ...] [--np N] [--output DIR] [--dry-run] [--emit-slurm FILE]`:
// run a grid of configs one after another and summarise them (trainer/app/sweep/).
#include "trainer/app/cli/command.h"
#include "trainer/app/sweep/sweep_runner.h"

namespace ankh::cli {

Action setup_sweep(CLI::App& sub) {
  auto o = std::make_shared<sweep::SweepOptions>();
  auto sweep_file = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto emit = std::make_shared<std::string>();
  auto plot_script = std::make_shared<std::string>();
  auto no_plot = std::make_shared<bool>(false);
  sub.add_option("sweep", *sweep_file, "sweep file (YAML): base:, overrides:, grid:, variants:")->required();
  sub.add_option("overrides", o->overrides, "section.key=value applied to every run (after the file's overrides:)")
      ->expected(0, -1);
  sub.add_option("--np", o->np, "ranks per run (mpirun -np N); 1 runs `ankh train` without mpirun")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--output", *output, "sweep directory (default runs/sweeps/<sweep name>); one subdirectory per run");
  sub.add_flag("--dry-run", o->dry_run, "validate and print the runs and their commands; start nothing");
  sub.add_flag("--summary-only", o->summary_only,
               "write summary.csv/md and plots from the run directories as they are; start nothing");
  sub.add_option("--mpirun", o->mpirun, "mpirun to use (default: mpirun from PATH)");
  sub.add_option("--mpirun-args", o->mpirun_args, "extra mpirun arguments, e.g. \"--hostfile hosts --bind-to none\"");
  sub.add_option("--emit-slurm", *emit, "write a Slurm job-array script (one task per incomplete run) instead of running");
  sub.add_option("--nodes", o->nodes, "--emit-slurm: nodes per run")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--gpus-per-node", o->gpus_per_node, "--emit-slurm: GPUs per node (0: CPU nodes)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  sub.add_option("--ranks-per-node", o->ranks_per_node_given,
                 "--emit-slurm: ranks (tasks) per node (default: one per GPU; needed with --gpus-per-node 0)")
      ->check(CLI::PositiveNumber);
  sub.add_option("--time", o->time, "--emit-slurm: time limit per job (resumed by requeue after it)")->capture_default_str();
  sub.add_option("--plot-script", *plot_script, "plotting script (default scripts/plot_runs.py)");
  sub.add_flag("--no-plot", *no_plot, "do not plot");
  sub.footer(
      "Each run lives in OUTPUT/NAME, NAME made of its overrides (mask_prob-0.2__encoder_layers-4). Every run is\n"
      "resolved and validated before the first starts. Completed runs are skipped; an interrupted one resumes\n"
      "from its checkpoint; a failed one is reported and the others still run. Writes OUTPUT/summary.csv,\n"
      "summary.md and PNG plots (scripts/plot_runs.py, needs python3-matplotlib). See docs/sweeps.md.");
  return [=]() {
    o->sweep_file = *sweep_file;
    o->output = *output;
    o->emit_slurm = *emit;
    o->plot_script = *plot_script;
    o->plot = !*no_plot;
    std::string command = "ankh sweep " + *sweep_file;
    for (const auto& ov : o->overrides) command += " " + ov;
    if (o->np != 1) command += " --np " + std::to_string(o->np);
    if (!output->empty()) command += " --output " + *output;
    o->command_line = command;
    return sweep::run_sweep(*o);
  };
}

}  // namespace ankh::cli
