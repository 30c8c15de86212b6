#!/usr/bin/env bash
# mixture.sh: an objective mixture with multi-rate masking, sequence completion and task tokens,
# trained for real under mpirun. `ankh batches` shows the same global batches on 1 and 2 ranks
# with each sample's task; a run stopped mid-epoch (step 15 of 71) and resumed repeats the
# uninterrupted run bit for bit; train and valid records carry per-task metrics in mixture order;
# the export carries the task tokens, and a new run starts from it with model.init_from.
source "$(dirname "$0")/common.sh"
make_dataset
mixture='objective.mixture=[{kind: ankh, weight: 2, mask_prob: [0.15, 0.3], prefix_token: "[NLU]"},
  {kind: completion, weight: 1, prefix_fraction: [0.3, 0.7], prefix_token: "[S2S]"}]'
common=("$mixture" train.max_steps=30 train.global_batch=8 checkpoint.every_steps=15 train.eval_every=15 train.eval_batches=2)
py=/usr/bin/python3

# The global batches of steps 69-72 (the end of epoch 0 and the start of epoch 1) on 1 and 2 ranks.
for w in 1 2; do
  "$ANKH_BINARY" batches "$ANKH_SOURCE_DIR/configs/ankh-tiny.yaml" "data.dataset=$work/dataset" "${tiny[@]}" \
    "${common[@]}" train.micro_batch=4 --world-size $w --start-step 69 --steps 4 --json >"$work/batches$w.jsonl"
done
$py - "$work/batches1.jsonl" "$work/batches2.jsonl" <<'PY'
import json, sys
def load(path):
    samples = [json.loads(line) for line in open(path)]
    for s in samples: s.pop("rank")
    return sorted(samples, key=lambda s: s["global_index"])
one, two = load(sys.argv[1]), load(sys.argv[2])
assert len(one) == 32 and one == two, "1 and 2 ranks see different global batches"
kinds = {s["task_kind"] for s in one}
assert kinds == {"ankh", "completion"}, kinds
for s in one:
    token = {"ankh": 144, "completion": 145}[s["task_kind"]]
    assert s["task"] == (0 if s["task_kind"] == "ankh" else 1), s
    assert s["input_ids"][0] == token and len(s["input_ids"]) <= 64, s
    if s["task_kind"] == "completion":  # prefix + rest rebuild the cropped sample
        assert s["input_ids"][1:-1] + s["target_ids"][:-1] == s["tokens"], s
print("batches: 1 and 2 ranks agree;", sum(s["task"] == 1 for s in one), "of 32 samples are completion")
PY
"$ANKH_BINARY" batches "$ANKH_SOURCE_DIR/configs/ankh-tiny.yaml" "data.dataset=$work/dataset" "${tiny[@]}" \
  "${common[@]}" train.micro_batch=8 --decode --steps 1 >"$work/decode.txt"
grep -q "task     1 (completion)" "$work/decode.txt" || fail "--decode does not show the task"
grep -Eq "input    \[S2S\][A-Z]+</s>" "$work/decode.txt" || fail "--decode does not show the task token"

# Mid-epoch resume, bit for bit.
train 2 "$work/full" "${common[@]}" train.micro_batch=4 >"$work/full.log" 2>&1
train 2 "$work/resumed" "${common[@]}" train.micro_batch=4 train.exit_at_step=15 >"$work/first.log" 2>&1
grep -q "stopping after step 15" "$work/first.log" || fail "the first part did not stop at step 15"
train 2 "$work/resumed" "${common[@]}" train.micro_batch=4 2>&1 | tee "$work/second.log"
grep -q "resumed from .*step-00000015 (step 15" "$work/second.log" || fail "the second part did not resume from step 15"
"$ANKH_COMPARE" losses "$work/full" "$work/resumed" --rtol 0
"$ANKH_COMPARE" params "$(checkpoint "$work/full" 30)" "$(checkpoint "$work/resumed" 30)" --rtol 0
grep -q "vocab_size: 160" "$work/full/config.yaml" || fail "the model did not grow to 160 rows"

# Per-task metrics: the token-weighted mean of the tasks' losses is the record's loss.
$py - "$work/full/metrics.jsonl" <<'PY'
import json, math, sys
records = [json.loads(line) for line in open(sys.argv[1])]
for kind in ("train", "valid"):
    rs = [r for r in records if r.get("event") == kind]
    assert rs, f"no {kind} records"
    for r in rs:
        tasks = r.get("tasks")
        assert tasks and [t["kind"] for t in tasks] == ["ankh", "completion"], r
        for t in tasks:
            assert all(k in t for k in ("loss", "residue_loss", "accuracy", "target_tokens")), t
            # A step of 8 samples may hold no sample of a task: then its loss is null.
            assert (t["loss"] is None) == (t["target_tokens"] == 0), t
        counted = [t for t in tasks if t["target_tokens"]]
        mean = sum(t["loss"] * t["target_tokens"] for t in counted) / sum(t["target_tokens"] for t in counted)
        assert abs(mean - r["loss"]) <= 1e-6 * abs(r["loss"]), (mean, r["loss"])
print("metrics: per-task train and valid records")
PY

# Export: the task tokens in tokenizer.json and config.json; init_from the export.
"$ANKH_BINARY" export "$work/full" --output "$work/hf" >"$work/export.log" 2>&1
$py - "$work/hf" <<'PY'
import json, sys
d = sys.argv[1]
config = json.load(open(f"{d}/config.json"))
assert config["vocab_size"] == 160, config["vocab_size"]
assert config["task_tokens"] == {"[NLU]": 144, "[S2S]": 145}, config.get("task_tokens")
tok = json.load(open(f"{d}/tokenizer.json"))
added = {t["content"]: t["id"] for t in tok["added_tokens"]}
assert added["[NLU]"] == 144 and added["[S2S]"] == 145, added
print("export: task tokens in config.json and tokenizer.json")
PY
train 1 "$work/from_export" "${common[@]}" train.micro_batch=8 train.max_steps=2 "model.init_from=$work/hf" \
  2>&1 | tee "$work/init.log"
grep -q "initialised from $work/hf" "$work/init.log" || fail "did not initialise from the export"
echo PASS
