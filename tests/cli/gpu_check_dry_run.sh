#!/usr/bin/env bash
# scripts/gpu/check.sh --cpu-dry-run on the CPU build: the phases that need no CUDA and no bundle
# (GPU test binaries, which skip, and the MPI collectives; ankh-base's train and resume on ankh-tiny
# sizes; export and its check; the bench_model A/B rows) run and pass, and summary.json holds the run's figures, so that the
# script a lent GPU runs once has no typo. Usage: gpu_check_dry_run.sh ANKH_BUILD_DIR
set -euo pipefail
build=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/ankh-gpu-check-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
ANKH_CHECK_BUILD=$build ANKH_CHECK_WORK=$work/work scripts/gpu/check.sh "$work/out" --cpu-dry-run \
  --only gpu_tests,train_base,export,bench_model --budget 600
for phase in gpu_tests train_base export bench_model; do
  grep -qP "^$phase\tpassed\t" "$work/out/phases.tsv" || { echo "FAIL: phase $phase did not pass"; exit 1; }
done
grep -qP "^build\tnot run \(--only\)" "$work/out/phases.tsv" || { echo "FAIL: --only did not skip build"; exit 1; }
# Every variant row of ankh-base's A/B at both batch sizes, and ankh-large's two.
(( $(grep -cE '^\| configs/ankh-tiny.yaml \| (plain|fused-attention|fused-attention\+projections|fused-attention\+projections\+norm|fused) \|.* [0-9.]+x \|' \
     "$work/out/check.log") == 12 )) || { echo "FAIL: bench_model did not print its 12 variant rows"; exit 1; }
python3 - "$work/out/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
base = s["ankh-base"]
assert s["peak_tflops"] == 989 and base and base["tokens_per_s"] > 0 and 0 < base["mfu"] <= 1, s
assert s["phases"]["export"] == "passed", s["phases"]
rows = s["bench_model"]
assert len(rows) == 14 and all(r["tokens_per_s"] > 0 and (r["mfu"] is None or 0 < r["mfu"] <= 1) for r in rows), rows
for row in rows[-2:]:  # the --optimizer rows (stacked and fused Adafactor): the whole step without data
    full = row["with_optimizer"]
    assert full["tokens_per_s"] > 0 and full["optimizer_ms_per_step"] is not None, row
assert [r["variant"] for r in rows[-2:]] == ["adafactor-stacked", "adafactor-fused"], rows
assert [r["variant"] for r in rows[:5]] == ["plain", "fused-attention", "fused-attention+projections",
                                          "fused-attention+projections+norm", "fused"], rows
assert rows[0]["vs_first_variant"] == 1.0, rows
print("summary.json:", base["tokens_per_s"], "tokens/s,", base["records"], "records")
PY
# A second call skips what passed.
ANKH_CHECK_BUILD=$build ANKH_CHECK_WORK=$work/work scripts/gpu/check.sh "$work/out2" --cpu-dry-run \
  --only gpu_tests,train_base,export --budget 600 >/dev/null
grep -qP "^train_base\tpassed earlier\t" "$work/out2/phases.tsv" || { echo "FAIL: a passed phase ran again"; exit 1; }
echo "PASS"
