# The GPU check's helpers that run anywhere: the Nsight Compute summary (scripts/gpu/kernel_summary.py).
add_test(NAME cli.kernel_summary COMMAND "${CMAKE_CURRENT_SOURCE_DIR}/cli/kernel_summary.sh"
         WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}")
set_tests_properties(cli.kernel_summary PROPERTIES LABELS unit ENVIRONMENT "${ANKH_TEST_ENV}" TIMEOUT 60)
