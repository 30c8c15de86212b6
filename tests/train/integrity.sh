#!/usr/bin/env bash
# Damaged files, as users meet them, through the real binary:
#   - a shard byte outside the vocabulary (same size, HDF5 still opens it): `ankh train` on 2
#     ranks, `ankh eval` and `ankh batches` stop with an error naming the shard, the sequence and
#     its record and pointing at `ankh verify` — never LibTorch's "index out of range";
#   - a byte changed to another residue: invisible to `data.verify: quick`, stopped by `full`;
#   - `ankh verify` of a dataset, a checkpoint, a run and an export: OK when intact, every problem
#     listed and exit 1 when not.
source "$(dirname "$0")/common.sh"

make_dataset
verify() { "$ANKH_BINARY" verify --no-progress "$@" > "$work/verify.log" 2>&1; }

verify "$work/dataset" || fail "verify of an intact dataset failed: $(cat "$work/verify.log")"
grep -q "^dataset .*: 3 files, .*: OK$" "$work/verify.log" || fail "unexpected verify report: $(cat "$work/verify.log")"

# poke DATASET SEQUENCE RESIDUE VALUE: overwrites one residue of train sequence SEQUENCE in place.
poke() {
  /usr/bin/python3 - "$@" <<'PY'
import sys, h5py
path, seq, res, value = sys.argv[1] + "/train-00000.h5", int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with h5py.File(path, "r") as f:
    at = f["tokens"].id.get_offset() + int(f["offsets"][seq]) + res
    old = int(f["tokens"][int(f["offsets"][seq]) + res])
with open(path, "r+b") as out:
    out.seek(at)
    out.write(bytes([value if value >= 0 else (4 if old == 3 else 3)]))
PY
}

# A byte outside the vocabulary, in sequence 17 (record P00017 or whichever it holds).
cp -r "$work/dataset" "$work/bad"
poke "$work/bad" 17 5 200
record=$(/usr/bin/python3 -c "import h5py,sys; print(h5py.File(sys.argv[1],'r')['ids'][17].decode())" "$work/bad/train-00000.h5")
! verify "$work/bad" || fail "verify passed a dataset with a byte outside the vocabulary"
grep -q "PROBLEM .*train-00000.h5: /tokens checksum" "$work/verify.log" || fail "no checksum problem: $(cat "$work/verify.log")"
grep -q "PROBLEM .*train-00000.h5: 1 byte of /tokens is not a residue id.*= 200, is residue 5 of sequence 17 (record '$record')" \
  "$work/verify.log" || fail "the bad byte is not reported: $(cat "$work/verify.log")"

expect_clean_error() {  # LOG: the error names the shard and record and says what to run
  grep -q "train-00000.h5.*is not a residue id" "$1" || fail "no error naming the shard in $1: $(tail -5 "$1")"
  grep -q "record '$record'" "$1" || fail "the record is not named in $1"
  grep -q "ankh verify" "$1" || fail "no hint to run ankh verify in $1"
  ! grep -qi "internal error\|index out of range\|please report" "$1" || fail "an internal error in $1: $(tail -5 "$1")"
}
# Three and a half epochs: the damaged sample is met (each epoch leaves out a different remainder).
if train 2 "$work/run-bad" data.dataset="$work/bad" train.max_steps=60 train.global_batch=32 train.micro_batch=8 \
    > "$work/train-bad.log" 2>&1; then fail "training on a damaged dataset succeeded"; fi
expect_clean_error "$work/train-bad.log"
if "$ANKH_BINARY" batches "$ANKH_SOURCE_DIR/configs/ankh-tiny.yaml" data.dataset="$work/bad" data.max_length=64 \
    train.global_batch=1 train.micro_batch=1 --steps 600 --decode > "$work/batches-bad.log" 2>&1; then
  fail "ankh batches over a damaged sequence succeeded"
fi
expect_clean_error "$work/batches-bad.log"

# A byte changed to another residue: quick (the default) trains on it; full stops before step 1.
cp -r "$work/dataset" "$work/flipped"
poke "$work/flipped" 3 0 -1
train 1 "$work/run-quick" data.dataset="$work/flipped" train.max_steps=2 > "$work/train-quick.log" 2>&1 \
  || fail "data.verify quick refused a dataset whose bytes are all residues"
if train 1 "$work/run-full" data.dataset="$work/flipped" train.max_steps=2 data.verify=full > "$work/train-full.log" 2>&1; then
  fail "data.verify full trained on a dataset whose checksum is wrong"
fi
grep -q "problem.* in the dataset" "$work/train-full.log" && grep -q "/tokens checksum" "$work/train-full.log" \
  && grep -q "residue composition differs" "$work/train-full.log" || fail "full verify did not list the problems"
[[ ! -e $work/run-full/checkpoints ]] || fail "data.verify full let training start"

# The intact dataset with data.verify full: trains, and says how long the check took.
train 2 "$work/run" train.max_steps=4 checkpoint.every_steps=2 data.verify=full > "$work/train.log" 2>&1
grep -q "data.verify full: .* checked in .* s" "$work/train.log" || fail "no data.verify timing in the log"

# Checkpoints: a run and one checkpoint verify; two damaged files are both reported.
verify "$work/run" || fail "verify of an intact run failed: $(cat "$work/verify.log")"
grep -q "^run .*: OK$" "$work/verify.log" || fail "unexpected run report: $(cat "$work/verify.log")"
step4=$(checkpoint "$work/run" 4)
verify "$step4" || fail "verify of an intact checkpoint failed"
cp -r "$step4" "$work/step-damaged"
printf '\x01' | dd of="$work/step-damaged/model.safetensors" bs=1 seek=5000 conv=notrunc status=none
truncate -s -10 "$work/step-damaged/optimizer.safetensors"
! verify "$work/step-damaged" || fail "verify passed a damaged checkpoint"
grep -q "PROBLEM .*model.safetensors: XXH64 .* differs" "$work/verify.log" || fail "bit flip not reported: $(cat "$work/verify.log")"
grep -q "PROBLEM .*optimizer.safetensors: has .* bytes, .*(truncated)" "$work/verify.log" || fail "truncation not reported"
grep -q "checkpoint .* 2 problem(s)" "$work/verify.log" || fail "not both problems: $(cat "$work/verify.log")"

# An export: intact, then a config.json that no longer describes the tensors.
"$ANKH_BINARY" export "$work/run" --output "$work/hf" > /dev/null 2>&1
verify "$work/hf" || fail "verify of an intact export failed: $(cat "$work/verify.log")"
/usr/bin/python3 - "$work/hf/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["d_ff"] = 2 * c["d_ff"]; json.dump(c, open(sys.argv[1], "w"))
PY
! verify "$work/hf" || fail "verify passed an export whose config.json does not fit its tensors"
grep -q "PROBLEM .*wi_0.weight" "$work/verify.log" || fail "shape problems not listed: $(cat "$work/verify.log")"
echo "integrity: OK"
