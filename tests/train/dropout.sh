#!/usr/bin/env bash
# dropout.sh: with model.dropout=0.1 the split of a global batch still does not change training:
# every dropout mask is a function of (seed, step, the sample's global position, site, element),
# not of the rank or the micro-batch (docs/model.md, "Dropout"). 2 ranks x 4, 1 rank x 8 and
# 1 rank x 4 with 2 accumulation steps give the same per-step losses and final parameters within
# 1e-5 relative over 20 fp32 steps; and dropout does act: a run without it differs.
source "$(dirname "$0")/common.sh"
make_dataset
common=(optim.name=adamw train.max_steps=20 train.global_batch=8 checkpoint.every_steps=20)

train 2 "$work/ranks2" "${common[@]}" model.dropout=0.1 train.micro_batch=4 2>&1 | tee "$work/ranks2.log"
grep -q "parameters identical on all 2 rank(s)" "$work/ranks2.log" || fail "no replica check on 2 ranks"
train 1 "$work/single" "${common[@]}" model.dropout=0.1 train.micro_batch=8 >"$work/quiet-1.log" 2>&1
train 1 "$work/accum" "${common[@]}" model.dropout=0.1 train.micro_batch=4 2>&1 | tee "$work/accum.log"
grep -q "global batch 8 = 1 x 4 x 2 accumulation" "$work/accum.log" || fail "accumulation run did not accumulate"

for other in single accum; do
  "$ANKH_COMPARE" losses "$work/ranks2" "$work/$other" --rtol 1e-5
  "$ANKH_COMPARE" params "$(checkpoint "$work/ranks2" 20)" "$(checkpoint "$work/$other" 20)" --rtol 1e-5
done
# The comparison can fail: without dropout the same run gives different losses.
train 1 "$work/no_dropout" "${common[@]}" model.dropout=0 train.micro_batch=8 >"$work/quiet-2.log" 2>&1
if "$ANKH_COMPARE" losses "$work/single" "$work/no_dropout" --rtol 1e-5 >/dev/null; then
  fail "runs with dropout 0.1 and 0 compared equal"
fi
echo "PASS: dropout"
