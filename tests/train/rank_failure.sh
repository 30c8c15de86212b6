#!/usr/bin/env bash
# rank_failure.sh: a rank that throws, or hangs, mid-run takes the whole 2-rank job down with a
# non-zero exit within the watchdog timeout (dist.timeout_s=10 here), never a hang; the error
# names the cause.
source "$(dirname "$0")/common.sh"
make_dataset

# expect_failure NAME FAULT PATTERN: the run with ANKH_INJECT_FAULT=FAULT exits non-zero within
# 120 s (timeout(1) itself would return 124 and be reported as a hang) with PATTERN in its output.
expect_failure() {
  local name=$1 fault=$2 pattern=$3 status=0 start=$SECONDS
  ANKH_INJECT_FAULT=$fault timeout -k 5 120 "$run_mpi" 2 "$ANKH_BINARY" train "$ANKH_SOURCE_DIR/configs/ankh-tiny.yaml" \
    "data.dataset=$work/dataset" "run.dir=$work/$name" "${tiny[@]}" train.max_steps=50 train.global_batch=8 \
    train.micro_batch=4 dist.timeout_s=10 >"$work/$name.log" 2>&1 || status=$?
  cat "$work/$name.log"
  (( status != 0 )) || fail "$name: the job exited 0 although a rank failed"
  if (( status == 124 || status == 137 )) && (( SECONDS - start >= 120 )); then fail "$name: the job hung"; fi
  grep -Eq "$pattern" "$work/$name.log" || fail "$name: output does not say /$pattern/"
  echo "$name: exit $status after $(( SECONDS - start )) s"
}

expect_failure throw "throw@step=5@rank=1" "injected failure at step 5"
expect_failure hang "hang@step=5@rank=1" "another rank is probably dead or stuck"
echo PASS
