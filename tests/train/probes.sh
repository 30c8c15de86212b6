#!/usr/bin/env bash
# probes.sh: probing while training (train.probes, train.probe_every; docs/probes.md). A 2-rank
# run probes a tiny GO-transfer task at steps 3 and 6: one `probe` record per probe, Fmax in
# (0, 1], RUN/probes/go/step-N/results.json with the task's baselines at the first probe only,
# the end record still last; and the ranks' shared embedding gives the same Fmax as one rank.
source "$(dirname "$0")/common.sh"
make_dataset
/usr/bin/python3 "$ANKH_SOURCE_DIR/tests/probe/tiny_go_task.py" "$work/task"
common=(train.max_steps=6 train.global_batch=8 checkpoint.every_steps=6 "train.probes=$work/task/go.yaml"
        train.probe_every=3)

train 2 "$work/ranks2" "${common[@]}" train.micro_batch=4 >"$work/ranks2.log" 2>&1 || { cat "$work/ranks2.log"; fail "training failed"; }
train 1 "$work/single" "${common[@]}" train.micro_batch=8 >"$work/single.log" 2>&1 || { cat "$work/single.log"; fail "training failed"; }
grep -q "probe go at step 3" "$work/ranks2.log" || fail "no probe logged at step 3"
for step in 3 6; do [[ -s $work/ranks2/probes/go/step-$step/results.json ]] || fail "no results.json at step $step"; done

/usr/bin/python3 - "$work/ranks2" "$work/single" <<'PY' || fail "probe records"
import json, sys
def probes(run):
    records = [json.loads(l) for l in open(f"{run}/metrics.jsonl")]
    assert records[-1]["event"] == "end", "the end record is not last"
    return {r["step"]: r for r in records if r["event"] == "probe"}
two, one = probes(sys.argv[1]), probes(sys.argv[2])
assert sorted(two) == [3, 6], f"probe records at steps {sorted(two)}"
for step, r in two.items():
    assert r["task"] == "go" and 0 < r["fmax"] <= 1, r
    assert abs(r["fmax"] - one[step]["fmax"]) < 1e-4, f"step {step}: 2 ranks {r['fmax']} vs 1 rank {one[step]['fmax']}"
first = json.load(open(f"{sys.argv[1]}/probes/go/step-3/results.json"))
last = json.load(open(f"{sys.argv[1]}/probes/go/step-6/results.json"))
assert "naive" in first and "naive" not in last, "the task's baselines belong to the first probe only"
print(f"probe fmax {[round(two[s]['fmax'], 4) for s in (3, 6)]}, naive {first['naive']['fmax']:.4f}")
PY
echo "PASS: probes"
