#!/usr/bin/env bash
# `ankh embed` within memory, on the real binary with a tiny trained model:
# 1. under a real address-space limit (prlimit --as=3G), a FASTA with one titin-sized protein
#    (30,000 residues) ends in a clean error: exit 1, naming the protein (id, file:line), its
#    length and a --max-length, no "internal error", and no output file (or temporary of it);
# 2. the --max-length it names runs to completion under the same limit (the estimate is an upper
#    bound of what the run really takes), truncating that protein;
# 3. a batch over --memory-limit is split and gives the same embeddings as an unbounded run.
# Usage: embed_memory.sh ANKH_BINARY SOURCE_DIR
set -euo pipefail
ankh=$1 src=$2
py=/usr/bin/python3
command -v prlimit >/dev/null || { echo "SKIP: no prlimit"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/ankh-embed-memory.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$py" - <<'PY'
import random
random.seed(11)
letters = "ALGVSREDTIPKFQNYMHWC"
seq = lambda n: "".join(random.choice(letters) for _ in range(n))
with open("train.fasta", "w") as f:
    for i in range(40):
        f.write(f">t{i}\n{seq(random.randint(20, 60))}\n")
with open("titin.fasta", "w") as f:
    f.write(f">short_1\n{seq(50)}\n>TITIN_HUMAN Titin\n{seq(30000)}\n>short_2\n{seq(80)}\n")
with open("batch.fasta", "w") as f:
    for i in range(4):
        f.write(f">long_{i}\n{seq(3000)}\n")
    f.write(f">short_a\n{seq(40)}\n>short_b\n{seq(300)}\n")
PY
"$ankh" preprocess --input train.fasta --output ds --valid-fraction 0.2 --no-progress
"$ankh" train "$src/configs/ankh-tiny.yaml" data.dataset=ds run.dir=run train.max_steps=1 \
  model.d_model=32 model.num_heads=2 model.d_kv=16 model.d_ff=48 model.encoder_layers=2 model.decoder_layers=1 \
  model.relative_buckets=16 model.relative_max_distance=32 model.precision=fp32 \
  train.global_batch=4 train.micro_batch=4 train.eval_every=0 checkpoint.every_steps=1 >train.log 2>&1 || { cat train.log; fail "training"; }

# 1. A clean refusal under a real limit.
status=0
log=$(prlimit --as=3000000000 "$ankh" embed run --fasta titin.fasta --output out.h5 --no-progress 2>&1) || status=$?
printf '%s\n' "$log"
(( status == 1 )) || fail "expected exit status 1, got $status"
grep -q "internal error" <<<"$log" && fail "an internal error instead of a clean one"
grep -Eq "titin.fasta:3 \(protein 'TITIN_HUMAN', number 2 of 3\): protein of 30,000 residues needs an estimated [0-9.]+ GiB .*available \(RLIMIT_AS" <<<"$log" \
  || fail "the error does not name the protein, its length and the limit"
max_length=$(grep -Eo -- "--max-length [0-9]+ fits" <<<"$log" | grep -Eo "[0-9]+") || fail "no --max-length in the hint"
(( max_length >= 1000 && max_length < 30000 )) || fail "implausible --max-length $max_length"
compgen -G "out.h5*" >/dev/null && fail "an output file exists after the failure: $(ls -d out.h5*)"

# 2. The hinted --max-length runs under the same limit.
prlimit --as=3000000000 "$ankh" embed run --fasta titin.fasta --output out.h5 --no-progress --max-length "$max_length" \
  || fail "--max-length $max_length, as the hint said, failed under the same limit"
"$py" - "$max_length" <<'PY'
import sys, h5py
n = int(sys.argv[1])
with h5py.File("out.h5", "r") as f:
    assert list(f["lengths"][:]) == [50, n, 80], f["lengths"][:]
    assert list(f["fasta_lengths"][:]) == [50, 30000, 80], f["fasta_lengths"][:]
    assert f.attrs["truncated"] == 1
PY

# 3. Over --memory-limit: split, same embeddings.
"$ankh" embed run --fasta batch.fasta --output ref.h5 --no-progress --per-residue --batch-tokens 100000 2>&1 | tee ref.log
grep -q "batches instead of" ref.log && fail "the unbounded run was split"
"$ankh" embed run --fasta batch.fasta --output split.h5 --no-progress --per-residue --batch-tokens 100000 \
  --memory-limit 650M 2>&1 | tee split.log
grep -Eq "embed: [0-9]+ batches instead of 1 to stay within 650.0 MiB \(--memory-limit" split.log || fail "no split under --memory-limit"
"$py" - <<'PY'
import h5py, numpy as np
with h5py.File("ref.h5", "r") as a, h5py.File("split.h5", "r") as b:
    assert list(a["ids"][:]) == list(b["ids"][:])
    for name in ("mean", "residues"):
        diff = np.abs(a[name][:] - b[name][:]).max()
        assert diff < 1e-5, (name, diff)
print("split embeddings equal the unbounded run's")
PY
echo "PASS"
