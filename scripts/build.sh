#!/usr/bin/env bash
# Configures (once) and builds ankh with a CMake preset: scripts/build.sh [release|debug|asan|tsan]
# Prints the build directory on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
build_dir=build/$preset
export CCACHE_DIR=${CCACHE_DIR:-$PWD/build/.ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
if [[ ! -f $build_dir/build.ninja ]]; then
  cmake --preset "$preset" >&2
fi
# Two jobs per core at most: LibTorch translation units take ~1 GiB of memory each.
jobs=${ANKH_BUILD_JOBS:-$(nproc)}
cmake --build "$build_dir" -j "$jobs" >&2
echo "$build_dir"
