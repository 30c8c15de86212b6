# `ankh sweep` on the command line: help, dry runs of the shipped sweeps, and errors that stop a
# sweep before anything runs. End-to-end sweeps (runs, failures, skips, resume, mpirun, Slurm
# script) are in tests/unit/sweep_run_test.cpp.
ankh_cli_test(sweep_help_lists_options unit 0 "--emit-slurm" sweep --help)
ankh_cli_test(sweep_needs_a_file unit 2 "sweep is required" sweep)
ankh_cli_test(sweep_missing_file unit nonzero "sweep file not found" sweep configs/sweeps/nope.yaml --dry-run)
ankh_cli_test(sweep_dry_run_quick unit 0
              "mpirun -np 2 .*ankh train runs/sweeps/quick/mask_prob-0\\.3__activation-relu/run\\.yaml"
              sweep configs/sweeps/quick.yaml --np 2 --dry-run --output runs/sweeps/quick)
ankh_cli_test(sweep_dry_run_np1_without_mpirun unit 0 "run\\(s\\) in runs/sweeps/mask_prob, 1 rank\\(s\\) each$"
              sweep configs/sweeps/mask_prob.yaml --dry-run)
ankh_cli_test(sweep_bad_override_key unit nonzero "train\\.max_step: unknown key.*did you mean train\\.max_steps\\?"
              sweep configs/sweeps/quick.yaml train.max_step=3 --dry-run)
ankh_cli_test(sweep_override_of_a_varied_key unit nonzero "objective\\.mask_prob: is varied by the sweep"
              sweep configs/sweeps/quick.yaml objective.mask_prob=0.2 --dry-run)
ankh_cli_test(sweep_batch_does_not_split unit nonzero "8 is not a multiple of 3 ranks x train\\.micro_batch 4"
              sweep configs/sweeps/quick.yaml --np 3 --dry-run)
ankh_cli_test(sweep_missing_mpirun unit nonzero "'/nonexistent/mpirun' not found or not executable"
              sweep configs/sweeps/quick.yaml --np 2 --mpirun /nonexistent/mpirun --dry-run)
