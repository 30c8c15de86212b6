#!/usr/bin/env bash
# equivalence.sh OPTIMIZER [KEY=VALUE...]: the split of a global batch does not change training.
# 2 ranks x 4, 1 rank x 8 and 1 rank x 4 with 2 accumulation steps give the same per-step losses
# and final parameters within 1e-5 relative over 20 fp32 steps; the 2 ranks end bit-identical.
# Overrides apply to every run: model.dropout=0.1 shows that dropout masks follow the sample,
# not the rank or the micro-batch (docs/model.md, "Dropout").
source "$(dirname "$0")/common.sh"
optimizer=$1
shift
overrides=("$@")
make_dataset
common=(optim.name="$optimizer" train.max_steps=20 train.global_batch=8 checkpoint.every_steps=20 "${overrides[@]}")

train 2 "$work/ranks2" "${common[@]}" train.micro_batch=4 2>&1 | tee "$work/ranks2.log"
grep -q "parameters identical on all 2 rank(s)" "$work/ranks2.log" || fail "no replica check on 2 ranks"
train 1 "$work/single" "${common[@]}" train.micro_batch=8
train 1 "$work/accum" "${common[@]}" train.micro_batch=4 2>&1 | tee "$work/accum.log"
grep -q "global batch 8 = 1 x 4 x 2 accumulation" "$work/accum.log" || fail "accumulation run did not accumulate"

for other in single accum; do
  "$ANKH_COMPARE" losses "$work/ranks2" "$work/$other" --rtol 1e-5
  "$ANKH_COMPARE" params "$(checkpoint "$work/ranks2" 20)" "$(checkpoint "$work/$other" 20)" --rtol 1e-5
done
# The comparison can fail: a different seed gives different losses; and the overrides act (the
# same run without them differs).
train 1 "$work/reseeded" "${common[@]}" train.micro_batch=8 run.seed=99 >"$work/quiet-1.log" 2>&1
if "$ANKH_COMPARE" losses "$work/single" "$work/reseeded" --rtol 1e-5 >/dev/null; then
  fail "runs with different seeds compared equal"
fi
if ((${#overrides[@]})); then
  train 1 "$work/plain" optim.name="$optimizer" train.max_steps=20 train.global_batch=8 checkpoint.every_steps=20 \
    train.micro_batch=8 >"$work/quiet-2.log" 2>&1
  if "$ANKH_COMPARE" losses "$work/single" "$work/plain" --rtol 1e-5 >/dev/null; then
    fail "runs with and without ${overrides[*]} compared equal"
  fi
fi
echo "PASS: $optimizer ${overrides[*]}"
