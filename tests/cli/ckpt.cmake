# Checkpoints on the command line: the benchmark runs end to end on a tiny model.
ankh_cli_test(bench_checkpoint_help unit 0 "--config" bench checkpoint --help)
ankh_cli_test(bench_checkpoint_tiny unit 0 "\\| ankh-tiny \\|.*\\|"
              bench checkpoint --config configs/ankh-tiny.yaml --repeat 1)
ankh_cli_test(bench_checkpoint_bad_repeat unit nonzero "--repeat must be at least 1"
              bench checkpoint --config configs/ankh-tiny.yaml --repeat 0)
ankh_cli_test(bench_checkpoint_missing_config unit nonzero "config file not found"
              bench checkpoint --config configs/nope.yaml)
