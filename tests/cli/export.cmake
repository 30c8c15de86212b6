# ankh export and ankh embed on the command line (issue 7). The round trip script trains a tiny
# model for two steps, exports it, checks the export with scripts/check_hf_export.py, starts a
# run from it (model.init_from) and embeds a FASTA from the run, the checkpoint and the export.
ankh_cli_test(export_help unit 0 "--encoder-only" export --help)
ankh_cli_test(embed_help unit 0 "--per-residue" embed --help)
ankh_cli_test(export_missing_checkpoint unit nonzero "nothere: no such file or directory"
              export nothere --output /nonexistent/ankh-export-never)
ankh_cli_test(export_needs_output unit nonzero "--output is required" export nothere)
ankh_cli_test(embed_missing_source unit nonzero "no-such-model: no such model directory"
              embed no-such-model --fasta tests/cli/export.cmake --output /nonexistent/ankh-embed-never.h5)
add_test(NAME cli.export_roundtrip
         COMMAND "${CMAKE_CURRENT_SOURCE_DIR}/cli/export_roundtrip.sh" "$<TARGET_FILE:ankh>" "${PROJECT_SOURCE_DIR}"
         WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}")
set_tests_properties(cli.export_roundtrip PROPERTIES LABELS unit ENVIRONMENT "${ANKH_TEST_ENV}" TIMEOUT 600)
