#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, AddressSanitizer and UBSan, in build/fuzz) and
# runs each of them in turn, from the seeds of tests/fuzz/corpus/<target>/ (docs/development.md#fuzzing).
#   scripts/fuzz.sh [SECONDS] [TARGET...]   SECONDS per target (default 60); every target when none named
#   scripts/fuzz.sh --build-only            configure (once) and build, nothing else
# Each run starts from a fresh copy of the seeds in WORK/corpus/<target> (the repository's corpus is
# never written); crash inputs go to WORK/crashes/<target>/, logs to WORK/logs/. WORK is
# $ANKH_FUZZ_WORK, by default build/fuzz/work (ctest uses its own). Prints one line per target
# (executions per second, corpus size, coverage) and exits 1 when any target crashed.
# Exit 77 (ctest's "skipped") when clang or its libFuzzer runtime is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build_dir=build/fuzz
work=${ANKH_FUZZ_WORK:-$build_dir/work}

build_only=0
seconds=60
targets=()
for arg in "$@"; do
  case $arg in
    --build-only) build_only=1 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    ''|*[!0-9]*) targets+=("$arg") ;;
    *) seconds=$arg ;;
  esac
done
all_targets=()
for src in tests/fuzz/fuzz_*.cpp; do
  name=${src#tests/fuzz/fuzz_}
  all_targets+=("${name%.cpp}")
done
if ((${#targets[@]} == 0)); then targets=("${all_targets[@]}"); fi
for t in "${targets[@]}"; do
  [[ -f tests/fuzz/fuzz_$t.cpp ]] || { echo "fuzz: no target '$t' (have: ${all_targets[*]})" >&2; exit 2; }
done

# libFuzzer ships with clang (Debian: the clang package, whose runtime has libclang_rt.fuzzer).
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
if ! command -v clang++ >/dev/null ||
   ! echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
     clang++ -x c++ -fsanitize=fuzzer,address,undefined - -o "$probe_dir/probe" 2>"$probe_dir/err"; then
  echo "fuzz: skipped: clang++ with libFuzzer is not installed (scripts/setup.sh installs clang)" >&2
  exit 77
fi

export CCACHE_DIR=${CCACHE_DIR:-$root/build/.ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
if [[ ! -f $build_dir/build.ninja ]]; then
  # Debug at -O1: assertions on, fast enough to run; only the fuzz targets and the libraries they
  # link are built (ANKH_FUZZ), no tests, no NCCL, no ankh executable.
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DCMAKE_C_FLAGS_DEBUG="-O1 -g" \
    -DANKH_FUZZ=ON -DANKH_SANITIZE=address,undefined -DANKH_BUILD_TESTS=OFF -DANKH_WITH_NCCL=OFF \
    -DANKH_WERROR=OFF >&2
fi
cmake --build "$build_dir" --target fuzz -j "${ANKH_BUILD_JOBS:-$(nproc)}" >&2
((build_only)) && exit 0

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_NUM_THREADS=1
failed=()
printf '%-12s %8s %10s %8s %9s %8s  %s\n' target seconds 'exec/s' corpus 'bytes' cov result
for t in "${targets[@]}"; do
  corpus=$work/corpus/$t crashes=$work/crashes/$t log=$work/logs/$t.log tmp=$work/tmp/$t
  rm -rf "$corpus" "$crashes" "$tmp"
  mkdir -p "$corpus" "$crashes" "$tmp" "$work/logs"
  cp tests/fuzz/corpus/"$t"/* "$corpus"/
  # Parsers that read paths write each input to a scratch file under TMPDIR.
  rc=0
  TMPDIR=$(cd "$tmp" && pwd) "$build_dir/fuzz/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=4096 -artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  files=$(find "$corpus" -type f | wc -l)
  bytes=$(du -sb "$corpus" | cut -f1)
  result=ok
  if ((rc != 0)) || compgen -G "$crashes/*" >/dev/null; then
    result="CRASH: $(find "$crashes" -type f -printf "%f ")(log: $log)"
    failed+=("$t")
  fi
  printf '%-12s %8s %10s %8s %9s %8s  %s\n' "$t" "$seconds" "${execs:-?}" "$files" "$bytes" "${cov:-?}" "$result"
done
if ((${#failed[@]})); then
  for t in "${failed[@]}"; do
    echo "---- $t: the end of $work/logs/$t.log" >&2
    grep -v '^#' "$work/logs/$t.log" | tail -n 40 >&2
    echo "reproduce: $build_dir/fuzz/fuzz_$t $work/crashes/$t/<file>" >&2
  done
  exit 1
fi
