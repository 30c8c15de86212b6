#!/usr/bin/env bash
# `ankh verify DATASET` against a plain `cat` of the same shard files, in the same run:
#   scripts/bench/verify_vs_cat.sh DATASET [--cold] [--threads N]
# --cold drops the page cache before each (root only), so both read from the disk; otherwise
# both read what the cache holds after one warm-up pass. Prints MB/s for each and their ratio.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[[ $# -ge 1 ]] || { echo "usage: $0 DATASET [--cold] [--threads N]" >&2; exit 2; }
dataset=$1; shift
cold=0; threads=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --cold) cold=1 ;;
    --threads) threads=(--threads "$2"); shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
ankh=$("$here/../../launch/find-ankh.sh")
shards=("$dataset"/*.h5)
bytes=$(cat "$dataset"/*.h5 | wc -c)
prepare() {
  if (( cold )); then sync; echo 3 > /proc/sys/vm/drop_caches || { echo "--cold needs root" >&2; exit 2; }; fi
}
now() { date +%s.%N; }
(( cold )) || cat "${shards[@]}" > /dev/null  # warm-up: both runs then read from memory

prepare; t0=$(now); cat "${shards[@]}" > /dev/null; t1=$(now)
prepare; t2=$(now); "$ankh" verify --no-progress "${threads[@]}" "$dataset"; t3=$(now)
awk -v b="$bytes" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v t3="$t3" -v mode="$( ((cold)) && echo cold || echo warm)" \
  'BEGIN { c = t1 - t0; v = t3 - t2; printf("%s cache, %.2f GB of shards: cat %.1f s (%.0f MB/s), ankh verify %.1f s (%.0f MB/s), verify/cat speed %.2f\n",
                  mode, b / 1e9, c, b / c / 1e6, v, b / v / 1e6, c / v) }'
