#!/usr/bin/env bash
# The main job, end to end on this machine (a few minutes on 2 CPU cores):
#   real proteins (Swiss-Prot from Debian's metastudent-data) -> ankh preprocess -> 2-rank
#   `mpirun ankh train configs/demo.yaml` -> checkpoint -> ankh export (Hugging Face T5 directory)
#   -> ankh embed (embeddings of a few proteins) -> ankh probe (GO molecular-function transfer,
#   scored by CAFA's Fmax, of the trained model next to the baselines it has to beat)
# Idempotent: a second run reuses the data, resumes the finished training (nothing to do), and
# re-exports. Outputs go to runs/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release >/dev/null
ankh=$(launch/find-ankh.sh)
run=runs/demo

echo "== 1/6 real proteins"
scripts/get-proteins.sh
echo "== 2/6 preprocess 20,000 proteins -> data/demo"
if [[ ! -f data/demo/manifest.yaml ]]; then
  "$ankh" preprocess --input data/raw/swissprot-first-20000.fasta --output data/demo --valid-fraction 0.02
else
  echo "data/demo exists"
fi

echo "== 3/6 train ankh-tiny on 2 ranks (loss should fall; validation residue loss below the unigram entropy)"
# Through the launcher a user runs (Ctrl-C stops it cleanly with a checkpoint; run it again to resume).
ANKH_BIN=$ankh launch/mpirun.sh -np 2 configs/demo.yaml "run.dir=$run"

echo "== 4/6 export the last checkpoint for Hugging Face transformers"
"$ankh" export "$run" --output "$run/hf" --overwrite

echo "== 5/6 embeddings of 10 proteins"
awk '/^>/ { n++ } n <= 10' data/raw/swissprot-first-20000.fasta >"$run/ten.fasta"
"$ankh" embed "$run/hf" --fasta "$run/ten.fasta" --output "$run/embeddings.h5" --overwrite

echo "== 6/6 downstream probe: GO molecular function by annotation transfer (docs/probes.md)"
# The trained model (with the naive and BLAST baselines), then amino-acid composition and an
# untrained model of the same config: what pre-training has to beat. Features are cached, so a
# second demo run only scores.
probes=$run/probes/go-mfo
"$ankh" probe "$run" configs/probes/go-mfo.yaml --output "$probes/trained" --no-progress
"$ankh" probe baseline:composition configs/probes/go-mfo.yaml --output "$probes/composition" --no-blast --no-progress
"$ankh" probe baseline:random-init:configs/demo.yaml configs/probes/go-mfo.yaml --output "$probes/random-init" \
  --no-blast --no-progress

/usr/bin/python3 - "$run/metrics.jsonl" "$probes" <<'PY'
import json, os, sys
rows = []
for name in ("trained", "random-init", "composition"):
    results = json.load(open(os.path.join(sys.argv[2], name, "results.json")))
    step = results["probe"]["step"]
    rows.append((name + (f" (step {step})" if step >= 0 else ""), results["source"]))
    if name == "trained":
        rows += [(method, results[method]) for method in ("naive", "blast") if method in results]
print("GO molecular function (Fmax, higher is better; CAFA protein-centric):")
for name, m in rows:
    print(f"  {name:<20} Fmax {m['fmax']:.3f}  coverage {m['coverage']:.2f}")
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
  probes            $run/probes/go-mfo/*/results.md (GO transfer: the model and its baselines)
EOF
