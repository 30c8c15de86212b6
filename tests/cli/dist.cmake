# Communication: `ankh bench comm`, backend errors, and the watchdog (a rank that never joins a
# collective makes the whole job exit non-zero instead of hanging).
ankh_cli_test(dist_bench_comm_help unit 0 "inject-hang" bench comm --help)
ankh_cli_test(dist_nccl_on_cpu unit nonzero "dist\\.backend=nccl: (NCCL needs a CUDA device|this ankh was built without NCCL)"
              bench comm --device cpu configs/ankh-tiny.yaml dist.backend=nccl)
ankh_cli_test(dist_bad_size unit 2 "bad message size 'lots'" bench comm --sizes lots --skip-grad-sync)

# Multi-rank runs of the real binary. `timeout` bounds a hang that the watchdog failed to stop;
# the regex then fails the test, since only the watchdog prints that message.
function(ankh_dist_mpi_cli_test name expect regex)
  add_test(NAME "cli.${name}"
           COMMAND "${CMAKE_CURRENT_SOURCE_DIR}/cli/expect.sh" "${expect}" "${regex}"
                   timeout 120 "${CMAKE_CURRENT_SOURCE_DIR}/run_mpi.sh" 2 "$<TARGET_FILE:ankh>" ${ARGN}
           WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}")
  set_tests_properties("cli.${name}" PROPERTIES LABELS mpi ENVIRONMENT "${ANKH_TEST_ENV}" TIMEOUT 180)
endfunction()

ankh_dist_mpi_cli_test(dist_watchdog_aborts_a_hung_job nonzero
  "dist watchdog: collective '#[0-9]+ inject-hang all_reduce .*' on the mpi communicator has been in flight"
  bench comm --inject-hang configs/ankh-tiny.yaml dist.timeout_s=2)
ankh_dist_mpi_cli_test(dist_bench_comm_runs 0 "overlap hides"
  bench comm --sizes 4K,1M --iters 3 --warmup 1 --rounds 1 --steps 1 --tokens 16 configs/ankh-tiny.yaml)
