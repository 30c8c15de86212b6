#!/usr/bin/env bash
# Start-up cost of `ankh train` on a dataset: one step of ankh-tiny on one rank, timed as a
# process, with its peak resident memory:
#   scripts/bench/train_startup.sh DATASET [--cold] [BINARY ...]
# Several binaries (say, the one before a change and after it) run in the same call, one after
# the other. --cold drops the page cache before each run (root only). Prints, per binary, the
# seconds from process start to the log line that starts training (set-up done: dataset opened,
# model built, entropy known) and to the first step's line, the whole process, and max RSS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[[ $# -ge 1 ]] || { echo "usage: $0 DATASET [--cold] [BINARY ...]" >&2; exit 2; }
dataset=$1; shift
cold=0
if [[ ${1:-} == --cold ]]; then cold=1; shift; fi
binaries=("$@")
(( ${#binaries[@]} )) || binaries=("$("$here/../../launch/find-ankh.sh")")
config=$here/../../configs/ankh-tiny.yaml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for bin in "${binaries[@]}"; do
  if (( cold )); then sync; echo 3 > /proc/sys/vm/drop_caches || { echo "--cold needs root" >&2; exit 2; }; fi
  rm -rf "$work/run"
  start=$(date +%s.%N)
  OMP_NUM_THREADS=1 /usr/bin/time -f "%e %M" -o "$work/time" "$bin" train "$config" "data.dataset=$dataset" \
    "run.dir=$work/run" train.max_steps=1 train.eval_every=0 checkpoint.every_steps=0 > "$work/log" 2>&1
  stamp() { date -d "$(grep -m1 "$1" "$work/log" | sed -E 's/^\[([^]]+)\].*/\1/')" +%s.%N; }
  read -r wall rss < "$work/time"
  awk -v s="$start" -v t="$(stamp "] training ")" -v f="$(stamp "step 1/1")" -v w="$wall" -v r="$rss" -v b="$bin" \
    -v c="$( ((cold)) && echo cold || echo warm)" \
    'BEGIN { printf("%s (%s cache): training starts %.1f s after launch, first step %.1f s, process %.1f s, max RSS %.2f GiB\n",
                    b, c, t - s, f - s, w, r / 1048576) }'
done
