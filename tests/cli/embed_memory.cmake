# `ankh embed` within memory on the real binary: a titin-sized protein under prlimit --as is a clean
# error naming it and the --max-length that fits, which then runs; a batch over --memory-limit is
# split with the same embeddings (tests/cli/embed_memory.sh).
add_test(NAME cli.embed_memory
         COMMAND "${CMAKE_CURRENT_SOURCE_DIR}/cli/embed_memory.sh" "$<TARGET_FILE:ankh>" "${PROJECT_SOURCE_DIR}"
         WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}")
set_tests_properties(cli.embed_memory PROPERTIES LABELS unit ENVIRONMENT "${ANKH_TEST_ENV}" TIMEOUT 600 SKIP_RETURN_CODE 77)
