# The data commands' command line: help, and errors that need no input files. End-to-end runs of
# preprocess and batches on generated data are in tests/unit/data_cli_test.cpp.
ankh_cli_test(preprocess_help_lists_policy unit 0 "--on-invalid" preprocess --help)
ankh_cli_test(preprocess_needs_output unit 2 "--output" preprocess --input x.fasta)
ankh_cli_test(preprocess_bad_policy unit 2 "on-invalid" preprocess --input x.fasta --output /tmp/x --on-invalid maybe)
ankh_cli_test(preprocess_missing_input unit nonzero "no-such-file\\.fasta.*No such file"
              preprocess --input tests/no-such-file.fasta --output /tmp/ankh-cli-never-written)
ankh_cli_test(batches_help unit 0 "--world-size" batches --help)
ankh_cli_test(batches_missing_dataset unit nonzero "dataset directory not found"
              batches configs/ankh-tiny.yaml data.dataset=/nonexistent/ankh-dataset)
ankh_cli_test(batches_too_many_sentinels unit nonzero "objective\\.mask_prob.*116"
              batches configs/ankh-tiny.yaml objective.mask_prob=0.6 data.max_length=512)
ankh_cli_test(bench_data_help unit 0 "seqtk" bench data --help)
ankh_cli_test(bench_objective_help unit 0 "--proteins" bench objective --help)
