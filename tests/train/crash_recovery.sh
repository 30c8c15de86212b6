#!/usr/bin/env bash
# crash_recovery.sh: a crash between writing a checkpoint's files and committing it leaves the
# previous checkpoint as the one `checkpoint.resume=auto` takes, and the resumed run still matches
# an uninterrupted one bit for bit. A truncated safetensors file gives an error naming it, and
# `auto` passes over a damaged checkpoint (truncated, or same size with other bytes) to the
# newest good one.
source "$(dirname "$0")/common.sh"
make_dataset
common=(train.max_steps=40 train.global_batch=8 train.micro_batch=4 checkpoint.every_steps=10 checkpoint.keep_last=5)
train 2 "$work/full" "${common[@]}" >"$work/quiet-1.log" 2>&1

status=0
ANKH_INJECT_FAULT=crash_before_commit@step=20 timeout -k 5 300 \
  "$run_mpi" 2 "$ANKH_BINARY" train "$ANKH_SOURCE_DIR/configs/ankh-tiny.yaml" "data.dataset=$work/dataset" \
  "run.dir=$work/crashed" "${tiny[@]}" "${common[@]}" >"$work/crash.log" 2>&1 || status=$?
(( status != 0 )) || fail "the injected crash did not fail the job"
grep -q "injected crash after writing checkpoint 20" "$work/crash.log" || { cat "$work/crash.log"; fail "no injected crash"; }
[[ ! -e $(checkpoint "$work/crashed" 20) ]] || fail "an uncommitted step-20 checkpoint appeared under its final name"
[[ -f $(checkpoint "$work/crashed" 10)/COMMITTED ]] || fail "the step-10 checkpoint is not committed"

train 2 "$work/crashed" "${common[@]}" 2>&1 | tee "$work/recover.log"
grep -q "resumed from .*step-00000010 (step 10" "$work/recover.log" || fail "auto did not resume from step 10"
"$ANKH_COMPARE" losses "$work/full" "$work/crashed" --rtol 0
"$ANKH_COMPARE" params "$(checkpoint "$work/full" 40)" "$(checkpoint "$work/crashed" 40)" --rtol 0

# Truncate the newest checkpoint's model tensors.
damaged=$(checkpoint "$work/full" 40)/model.safetensors
truncate -s -1000 "$damaged"
if train 2 "$work/full" "${common[@]}" train.max_steps=50 "checkpoint.resume=$(checkpoint "$work/full" 40)" \
    >"$work/explicit.log" 2>&1; then fail "resumed from a truncated checkpoint"; fi
cat "$work/explicit.log"
grep -q "step-00000040/model.safetensors" "$work/explicit.log" || fail "the error does not name the truncated file"
train 2 "$work/full" "${common[@]}" train.max_steps=50 2>&1 | tee "$work/auto.log"
grep -q "resumed from .*step-00000030 (step 30" "$work/auto.log" || fail "auto did not fall back to step 30"

# Same size, different bytes (bit rot): the checksum in the marker catches it when `auto` reads
# the newest checkpoint, and the one before is taken.
rotten=$(checkpoint "$work/full" 50)/model.safetensors
printf 'rotten' | dd of="$rotten" bs=1 seek=$(( $(stat -c %s "$rotten") / 2 )) conv=notrunc status=none
train 2 "$work/full" "${common[@]}" train.max_steps=60 2>&1 | tee "$work/rot.log"
grep -q "skipping checkpoint .*step-00000050" "$work/rot.log" || fail "the rotten checkpoint was not skipped"
grep -q "resumed from .*step-00000040 (step 40" "$work/rot.log" || fail "auto did not fall back to step 40"
echo PASS
