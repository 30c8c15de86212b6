#!/usr/bin/env bash
# mfu.sh: model FLOP utilisation cannot exceed 100 %. 2 ranks the way the demo runs them
# (tests/run_mpi.sh 2: default threads, no binding), the real ankh-tiny model, no
# train.peak_flops: the peak is this host's matmul, measured by both ranks together and shared.
# Every logged mfu must lie in (0, 1]. (Each rank measuring on its own, while the other was still
# busy starting up, gave the demo 121-135 %.)
source "$(dirname "$0")/common.sh"
make_dataset
run=$work/mfu
"$run_mpi" 2 "$ANKH_BINARY" train "$ANKH_SOURCE_DIR/configs/ankh-tiny.yaml" "data.dataset=$work/dataset" "run.dir=$run" \
  data.max_length=128 train.global_batch=8 train.micro_batch=4 train.max_steps=12 train.log_every=1 \
  train.eval_every=0 checkpoint.every_steps=0 checkpoint.every_minutes=0 train.peak_flops=0 >"$work/mfu.log" 2>&1 ||
  { cat "$work/mfu.log"; fail "training failed"; }
grep "model FLOP utilisation is against" "$work/mfu.log" || fail "no line saying what MFU is against"
grep -q "measured by its 2 rank(s) together" "$work/mfu.log" || fail "the peak is not the host's shared matmul"
/usr/bin/python3 - "$run/metrics.jsonl" <<'PY' || fail "an mfu outside (0, 1]"
import json, sys
mfu = [r["mfu"] for r in map(json.loads, open(sys.argv[1])) if r["event"] == "train"]
print(f"{len(mfu)} train records, mfu {min(mfu):.3f} .. {max(mfu):.3f}")
sys.exit(0 if mfu and all(m is not None and 0 < m <= 1 for m in mfu) else 1)
PY
echo PASS
