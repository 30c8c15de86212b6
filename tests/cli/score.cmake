# ankh score on the command line (issue 18): zero-shot variant effects of a mutations CSV. The
# script trains a tiny model for one step, scores a ProteinGym-style CSV from the run and from a
# full export, and checks the errors (encoder-only export, no 'mutant' column, no 'protein' column
# with a multi-record FASTA, a wrong wild type naming the row, an existing output).
ankh_cli_test(score_help unit 0 "--mutations" score --help)
ankh_cli_test(score_missing_source unit nonzero "no-such-model: no such model directory"
              score no-such-model --fasta tests/cli/score.cmake --mutations tests/cli/score.cmake
              --output /nonexistent/ankh-score-never.csv)
add_test(NAME cli.score COMMAND "${CMAKE_CURRENT_SOURCE_DIR}/cli/score.sh" "$<TARGET_FILE:ankh>" "${PROJECT_SOURCE_DIR}"
         WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}")
set_tests_properties(cli.score PROPERTIES LABELS unit ENVIRONMENT "${ANKH_TEST_ENV}" TIMEOUT 600)
