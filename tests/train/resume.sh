#!/usr/bin/env bash
# resume.sh: a run stopped at step 20 (train.exit_at_step, the same path as SIGTERM) and resumed
# matches the uninterrupted 40-step run bit for bit at the same world size, and within 1e-5
# relative when resumed on another number of ranks with the same global batch (2 -> 1, 1 -> 2).
source "$(dirname "$0")/common.sh"
make_dataset
common=(train.max_steps=40 train.global_batch=8 checkpoint.every_steps=10)
two=(train.micro_batch=4)   # 2 ranks x 4
one=(train.micro_batch=8)   # 1 rank x 8

train 2 "$work/full2" "${common[@]}" "${two[@]}" >"$work/quiet-1.log" 2>&1
train 1 "$work/full1" "${common[@]}" "${one[@]}" >"$work/quiet-2.log" 2>&1

# Same world size: stop at 20, resume to 40.
train 2 "$work/resumed2" "${common[@]}" "${two[@]}" train.exit_at_step=20 2>&1 | tee "$work/first.log"
grep -q "stopping after step 20" "$work/first.log" || fail "the first part did not stop at step 20"
[[ -d $(checkpoint "$work/resumed2" 20) ]] || fail "no step-20 checkpoint"
train 2 "$work/resumed2" "${common[@]}" "${two[@]}" 2>&1 | tee "$work/second.log"
grep -q "resumed from .*step-00000020 (step 20" "$work/second.log" || fail "the second part did not resume from step 20"
"$ANKH_COMPARE" losses "$work/full2" "$work/resumed2" --rtol 0
"$ANKH_COMPARE" params "$(checkpoint "$work/full2" 40)" "$(checkpoint "$work/resumed2" 40)" --rtol 0

# 2 -> 1: the step-20 checkpoint of a 2-rank run resumed on 1 rank.
train 2 "$work/two_to_one" "${common[@]}" "${two[@]}" train.exit_at_step=20 >"$work/quiet-3.log" 2>&1
train 1 "$work/two_to_one" "${common[@]}" "${one[@]}" 2>&1 | tee "$work/two_to_one.log"
grep -q "resuming a 2-rank checkpoint on 1 ranks" "$work/two_to_one.log" || fail "2 -> 1 did not say so"
"$ANKH_COMPARE" losses "$work/full2" "$work/two_to_one" --rtol 1e-5
"$ANKH_COMPARE" params "$(checkpoint "$work/full2" 40)" "$(checkpoint "$work/two_to_one" 40)" --rtol 1e-5

# 1 -> 2.
train 1 "$work/one_to_two" "${common[@]}" "${one[@]}" train.exit_at_step=20 >"$work/quiet-4.log" 2>&1
train 2 "$work/one_to_two" "${common[@]}" "${two[@]}" >"$work/quiet-5.log" 2>&1
"$ANKH_COMPARE" losses "$work/full1" "$work/one_to_two" --rtol 1e-5
"$ANKH_COMPARE" params "$(checkpoint "$work/full1" 40)" "$(checkpoint "$work/one_to_two" 40)" --rtol 1e-5

# Another global batch cannot resume: the data order would change.
if train 2 "$work/resumed2" "${common[@]}" train.max_steps=60 train.global_batch=16 train.micro_batch=8 \
    >"$work/batch.log" 2>&1; then fail "resumed with another global batch"; fi
grep -q "saved with train.global_batch=8, configured 16" "$work/batch.log" || fail "no clear global-batch error"
echo PASS
