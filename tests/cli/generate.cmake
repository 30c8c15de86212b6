# ankh generate on the command line (issue 18): help, and bad options refused before any model is
# loaded (the unit suite unit_generate_test covers generation itself, from checkpoints and exports).
ankh_cli_test(generate_help unit 0 "--allow-nonstandard" generate --help)
ankh_cli_test(generate_missing_source unit nonzero "no-such-model: no such model directory"
              generate no-such-model --fasta tests/cli/generate.cmake --output /nonexistent/ankh-generate-never.fasta)
ankh_cli_test(generate_missing_fasta unit nonzero "no-such.fasta: no such FASTA file"
              generate tests --fasta no-such.fasta --output /nonexistent/ankh-generate-never.fasta)
ankh_cli_test(generate_num_zero unit nonzero "--num: must be at least 1"
              generate no-such-model --fasta tests/cli/generate.cmake --output /nonexistent/ankh-generate-never.fasta --num 0)
ankh_cli_test(generate_bad_positions unit nonzero "--positions.*ends before it starts"
              generate no-such-model --fasta tests/cli/generate.cmake --output /nonexistent/ankh-generate-never.fasta --positions 9-3)
ankh_cli_test(generate_beam_with_sampling unit nonzero "--beam cannot be combined with --temperature"
              generate no-such-model --fasta tests/cli/generate.cmake --output /nonexistent/ankh-generate-never.fasta --beam 4 --temperature 1)
ankh_cli_test(generate_bad_mode unit nonzero "--mode"
              generate no-such-model --fasta tests/cli/generate.cmake --output /nonexistent/ankh-generate-never.fasta --mode sideways)
