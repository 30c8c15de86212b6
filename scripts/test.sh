#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs ctest.
#   scripts/test.sh                 every suite (unit, mpi, slow; gpu tests skip without a GPU)
#   scripts/test.sh -L unit         any ctest arguments are passed through
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build_dir=$(scripts/build.sh release | tail -n 1)
cd "$build_dir"
ctest --output-on-failure --timeout 1200 -j "$(nproc)" "$@"
