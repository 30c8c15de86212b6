#!/usr/bin/env bash
# The whole path on the real binary: FASTA -> ankh preprocess -> ankh train (2 steps, tiny model)
# -> ankh export (fp32 full model; bf16 encoder only) -> scripts/check_hf_export.py on both ->
# ankh train with model.init_from=EXPORT -> ankh embed from the run, the checkpoint and the HF
# directory, checked with h5py (FASTA ids and order, shapes, mean = mean of the residue rows,
# batching independence) -> bad inputs fail with a clear message, a non-zero exit and no output.
# Usage: export_roundtrip.sh ANKH_BINARY SOURCE_DIR
ankh=$1 src=$2
py=/usr/bin/python3
source "$(dirname "$0")/cli_script.sh" ankh-export-roundtrip

"$py" - <<'PY'
import random
random.seed(7)
letters = "ALGVSREDTIPKFQNYMHWC"
with open("proteins.fasta", "w") as f:
    for i in range(80):
        seq = "".join(random.choice(letters) for _ in range(random.randint(8, 90)))
        f.write(f">sp|Q{i:04d}|PROT{i} protein {i}\n{seq}\n")
with open("query.fasta", "w") as f:  # unsorted lengths and the rare letters X B Z U O
    for i, n in enumerate([30, 5, 77, 1, 12, 60, 12, 44]):
        seq = "".join(random.choice(letters + "XBZUO") for _ in range(n))
        f.write(f">query_{7 - i} some text\n{seq.lower() if i == 3 else seq}\n")
PY

"$ankh" preprocess --input proteins.fasta --output ds --valid-fraction 0.2 --no-progress
tiny=(model.d_model=32 model.num_heads=2 model.d_kv=16 model.d_ff=48 model.encoder_layers=2 model.decoder_layers=1
      model.relative_buckets=16 model.relative_max_distance=32 model.precision=fp32
      train.global_batch=4 train.micro_batch=4 train.eval_every=2 train.eval_batches=1 checkpoint.every_steps=1)
"$ankh" train "$src/configs/ankh-tiny.yaml" data.dataset=ds run.dir=run train.max_steps=2 "${tiny[@]}"
[[ -f run/checkpoints/step-00000002/COMMITTED ]] || fail "no committed step 2"

# Export: the run directory means its newest committed checkpoint.
"$ankh" export run --output hf 2>&1 | tee export.log
grep -q "using its newest committed checkpoint run/checkpoints/step-00000002" export.log || fail "export did not say which checkpoint"
"$ankh" export run/checkpoints/step-00000001 --output hf-enc --encoder-only --dtype bf16
"$py" "$src/scripts/check_hf_export.py" hf | tee check.log
grep -q "OK: hf: T5ForConditionalGeneration" check.log || fail "check_hf_export.py on the full export"
"$py" "$src/scripts/check_hf_export.py" hf-enc | tee check-enc.log
grep -q "OK: hf-enc: T5EncoderModel, 21 tensors, .*dtype BF16" check-enc.log || fail "check_hf_export.py on the encoder-only export"
grep -q "training step: 2" hf/README.md && grep -q "| train_loss |" hf/README.md && grep -q "| valid_loss |" hf/README.md \
  && grep -q "| tokens_seen |" hf/README.md && grep -q "^  d_model: 32" hf/README.md || fail "model card lacks step, metrics or config"

# model.init_from: a new run starts from the export (names and shapes checked).
"$ankh" train "$src/configs/ankh-tiny.yaml" data.dataset=ds run.dir=run2 train.max_steps=1 "${tiny[@]}" \
  model.init_from=hf run.seed=99 2>&1 | tee init.log
grep -q "initialised from hf" init.log || fail "init_from was not used"
expect_failure "feed_forward_proj|d_ff|missing decoder" run3/checkpoints/step-00000001 \
  "$ankh" train "$src/configs/ankh-tiny.yaml" data.dataset=ds run.dir=run3 train.max_steps=1 "${tiny[@]}" model.init_from=hf-enc

# Embed from the run directory (per residue, tiny batches), the checkpoint (big batches) and the HF directory.
"$ankh" embed run --fasta query.fasta --output emb.h5 --per-residue --batch-tokens 40
"$ankh" embed run/checkpoints/step-00000002 --fasta query.fasta --output emb-big.h5 --batch-tokens 100000
"$ankh" embed hf --fasta query.fasta --output emb-hf.h5 --per-residue --no-progress
"$ankh" embed hf --fasta query.fasta --output emb-cut.h5 --max-length 10 2>&1 | tee cut.log
grep -q "6 protein(s) longer than --max-length 10" cut.log || fail "truncation not reported"

"$py" - <<'PY'
import h5py, numpy as np
ids = [f"query_{7 - i}" for i in range(8)]
lengths = [30, 5, 77, 1, 12, 60, 12, 44]
with h5py.File("emb.h5", "r") as f:
    assert list(f["ids"].asstr()[:]) == ids, f["ids"][:]
    assert f["lengths"][:].tolist() == lengths, f["lengths"][:]
    assert f["fasta_lengths"][:].tolist() == lengths
    assert f["mean"].shape == (8, 32) and f["mean"].dtype == np.float32
    off = f["offsets"][:]
    assert off.tolist() == [0] + np.cumsum(lengths).tolist(), off
    assert f["residues"].shape == (sum(lengths), 32)
    assert f.attrs["format"] == "ankh-embeddings" and f.attrs["step"] == 2 and f.attrs["d_model"] == 32, dict(f.attrs)
    assert f.attrs["source"] == "run/checkpoints/step-00000002", f.attrs["source"]
    mean, res = f["mean"][:], f["residues"][:]
    for i in range(8):
        np.testing.assert_allclose(res[off[i]:off[i + 1]].mean(0), mean[i], atol=1e-5, rtol=0)
with h5py.File("emb-big.h5", "r") as g:
    assert "residues" not in g and "offsets" not in g
    d = np.abs(g["mean"][:] - mean).max()
    assert d < 1e-5, f"batching changed the means by {d}"
with h5py.File("emb-hf.h5", "r") as h:
    assert h.attrs["step"] == -1 and h.attrs["source_kind"] == "huggingface"
    # other batches than emb.h5 (default --batch-tokens): equal up to float rounding
    assert np.abs(h["mean"][:] - mean).max() < 1e-5 and np.abs(h["residues"][:] - res).max() < 1e-5
with h5py.File("emb-cut.h5", "r") as c:
    assert c["lengths"][:].tolist() == [min(n, 10) for n in lengths]
    assert c["fasta_lengths"][:].tolist() == lengths and c.attrs["truncated"] == 6
print("embeddings OK")
PY

# Bad inputs: a clear error that says what and where, a non-zero exit, nothing under the output's name.
printf '>good\nMKV\n>bad\nMKV\nMK1V\n' > bad.fasta
expect_failure "bad.fasta:5: invalid character '1' in the sequence of record 'bad'" bad.h5 \
  "$ankh" embed run --fasta bad.fasta --output bad.h5
expect_failure "no-model: no such model directory" missing.h5 "$ankh" embed no-model --fasta query.fasta --output missing.h5
expect_failure "nope.fasta: no such FASTA file" nofasta.h5 "$ankh" embed run --fasta nope.fasta --output nofasta.h5
cp -r run/checkpoints/step-00000002 run/checkpoints/step-00000003.tmp
expect_failure "never committed" x-hf "$ankh" export run/checkpoints/step-00000003.tmp --output x-hf
cp -r run/checkpoints/step-00000002 run/checkpoints/step-00000004 && rm run/checkpoints/step-00000004/COMMITTED
expect_failure "not committed" x-hf "$ankh" export run/checkpoints/step-00000004 --output x-hf
expect_failure "Hugging Face directory already" x-hf "$ankh" export hf --output x-hf
expect_failure "output directory already exists" hf-enc.x "$ankh" export run --output hf-enc
expect_failure "output file already exists" emb.h5.tmp "$ankh" embed run --fasta query.fasta --output emb.h5
expect_failure "fp32, bf16, fp16|fp8" x-hf "$ankh" export run --output x-hf --dtype fp8
echo "export round trip OK"
