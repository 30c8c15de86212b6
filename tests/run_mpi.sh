#!/usr/bin/env bash
# Test harness for multi-rank tests: run_mpi.sh NP COMMAND [ARGS...]
# Runs a real `mpirun`, allowing root (CI containers) and more ranks than cores (2-core CI).
set -euo pipefail
np=$1; shift
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
# Shared-memory transport between ranks; no network probing in containers.
exec mpirun -np "$np" --oversubscribe --bind-to none --mca btl self,vader "$@"
