#!/usr/bin/env bash
# The main job, end to end on this machine (a few minutes on 2 CPU cores):
#   real proteins (Swiss-Prot from Debian's metastudent-data) -> ankh preprocess -> 2-rank
#   `mpirun ankh train configs/demo.yaml` -> checkpoint -> ankh export (Hugging Face T5 directory)
#   -> ankh embed (embeddings of a few proteins)
# Idempotent: a second run reuses the data, resumes the finished training (nothing to do), and
# re-exports. Outputs go to runs/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release >/dev/null
ankh=$(launch/find-ankh.sh)
run=runs/demo

echo "== 1/5 real proteins"
scripts/get-proteins.sh
echo "== 2/5 preprocess 20,000 proteins -> data/demo"
if [[ ! -f data/demo/manifest.yaml ]]; then
  "$ankh" preprocess --input data/raw/swissprot-first-20000.fasta --output data/demo --valid-fraction 0.02
else
  echo "data/demo exists"
fi

echo "== 3/5 train ankh-tiny on 2 ranks (loss should fall; validation residue loss below the unigram entropy)"
# Through the launcher a user runs (Ctrl-C stops it cleanly with a checkpoint; run it again to resume).
ANKH_BIN=$ankh launch/mpirun.sh -np 2 configs/demo.yaml "run.dir=$run"

echo "== 4/5 export the last checkpoint for Hugging Face transformers"
"$ankh" export "$run" --output "$run/hf" --overwrite

echo "== 5/5 embeddings of 10 proteins"
awk '/^>/ { n++ } n <= 10' data/raw/swissprot-first-20000.fasta >"$run/ten.fasta"
"$ankh" embed "$run/hf" --fasta "$run/ten.fasta" --output "$run/embeddings.h5" --overwrite

/usr/bin/python3 - "$run/metrics.jsonl" <<'PY'
import json, sys
valid = [r for r in map(json.loads, open(sys.argv[1])) if r["event"] == "valid"]
if valid:
    first, last = valid[0], valid[-1]
    print(f"validation residue loss {first['residue_loss']:.3f} (step {first['step']}) -> "
          f"{last['residue_loss']:.3f} (step {last['step']}); amino-acid unigram entropy {last['unigram_entropy']:.3f}")
PY
cat <<EOF

demo: done. Outputs:
  ankh binary       $ankh
  dataset           data/demo/ (manifest.yaml + HDF5 shards)
  training run      $run/ (config.yaml, metrics.jsonl, logs/, checkpoints/)
  Hugging Face T5   $run/hf/ (T5ForConditionalGeneration.from_pretrained("$run/hf"))
  embeddings        $run/embeddings.h5 (/ids, /mean; see docs/formats.md)
EOF
