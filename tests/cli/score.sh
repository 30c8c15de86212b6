#!/usr/bin/env bash
# `ankh score` on the real binary: a tiny model trained for one step (and its encoder-only and full
# exports) scores a mutations CSV whose rows, columns and order come back with a `score` column and
# a Spearman line; bad inputs fail with a clear message naming the row, a non-zero exit and no output.
# Usage: score.sh ANKH_BINARY SOURCE_DIR
ankh=$1 src=$2
py=/usr/bin/python3
source "$(dirname "$0")/cli_script.sh" ankh-score

"$py" - <<'PY'
import random
random.seed(3)
letters = "ACDEFGHIKLMNPQRSTVWY"
with open("proteins.fasta", "w") as f:
    for i in range(40):
        f.write(f">p{i}\n{''.join(random.choice(letters) for _ in range(random.randint(10, 60)))}\n")
with open("wt.fasta", "w") as f:
    f.write(">P1 first protein\nMKTAYIAKQRQISFVKSHFSRQ\n>P2 second\nGAVLIPFWMC\n")
with open("one.fasta", "w") as f:
    f.write(">P1 first protein\nMKTAYIAKQRQISFVKSHFSRQ\n")
with open("muts.csv", "w") as f:  # quoted fields, a comma inside quotes, NA and blank DMS scores
    f.write('id,protein,mutant,DMS_score,"note, free"\n1,P2,G1A,0.5,x\n2,P1,K2R,NA,"y,z"\n3,P1,"A4G:K8R",-1.5,\n'
            '4,P2,V3V,2,w\n5,P1,K2A,,v\n6,P1,M1W,0.25,u\n')
open("no-mutant.csv", "w").write("variant,DMS_score\nA1G,1\n")
open("no-protein.csv", "w").write("mutant\nK2R\n")
open("wrong-wt.csv", "w").write("protein,mutant\nP1,K2R\nP1,M1A:A3G\n")
open("single.csv", "w").write("mutant\nK2R\nT3A:Y5W\n")
PY

"$ankh" preprocess --input proteins.fasta --output ds --valid-fraction 0.2 --no-progress
tiny=(model.d_model=32 model.num_heads=2 model.d_kv=16 model.d_ff=48 model.encoder_layers=2 model.decoder_layers=1
      model.relative_buckets=16 model.relative_max_distance=32 model.precision=fp32
      train.global_batch=4 train.micro_batch=4 train.eval_every=0 checkpoint.every_steps=1)
"$ankh" train "$src/configs/ankh-tiny.yaml" data.dataset=ds run.dir=run train.max_steps=1 "${tiny[@]}"
"$ankh" export run --output hf
"$ankh" export run --output hf-enc --encoder-only

# Rows, columns and order kept, a score per row, the Spearman line; the same from the full export.
"$ankh" score run --fasta wt.fasta --mutations muts.csv --output scores.csv --no-progress 2>&1 | tee score.log
grep -Eq "score: 6 rows .* in 5 passes" score.log || fail "no summary line with 6 rows in 5 passes"
grep -Eq "Spearman\(score, DMS_score\) = (-?[0-9.]+|undefined) over 4 rows \(2 without a DMS_score skipped\)" score.log \
  || fail "no Spearman line over 4 rows"
grep -Eq "^\[.*score:   P1: Spearman .* over 2 rows" score.log || fail "no per-protein Spearman line"
"$py" - <<'PY'
import csv
rows_in = list(csv.reader(open("muts.csv")))
rows_out = list(csv.reader(open("scores.csv")))
assert rows_out[0] == rows_in[0] + ["score"], rows_out[0]
assert len(rows_out) == len(rows_in)
for a, b in zip(rows_in[1:], rows_out[1:]):
    assert b[:-1] == a, (a, b)
    float(b[-1])
assert float(rows_out[4][-1]) == 0.0  # synonymous
raw_in = open("muts.csv").read().splitlines()
raw_out = open("scores.csv").read().splitlines()
assert raw_out[0] == raw_in[0] + ",score" and raw_out[3].startswith('3,P1,"A4G:K8R",-1.5,,')  # verbatim, quotes kept
print("OK: scores.csv keeps the input's rows, columns and order")
PY
"$ankh" score hf --fasta wt.fasta --mutations muts.csv --output scores-hf.csv --no-progress --batch-size 1
cmp scores.csv scores-hf.csv || "$py" - <<'PY'
import csv
a = [float(r[-1]) for r in list(csv.reader(open("scores.csv")))[1:]]
b = [float(r[-1]) for r in list(csv.reader(open("scores-hf.csv")))[1:]]
assert all(abs(x - y) < 1e-5 for x, y in zip(a, b)), (a, b)
PY
# One FASTA record: no protein column needed.
"$ankh" score run --fasta one.fasta --mutations single.csv --output single-out.csv --no-progress

# Errors.
expect_failure "output file already exists" scores.csv.tmp \
  "$ankh" score run --fasta wt.fasta --mutations muts.csv --output scores.csv
"$ankh" score run --fasta wt.fasta --mutations muts.csv --output scores.csv --overwrite --no-progress
expect_failure "an encoder-only model cannot score variants: it has no decoder" enc.csv \
  "$ankh" score hf-enc --fasta wt.fasta --mutations muts.csv --output enc.csv
expect_failure "no-mutant.csv: no column 'mutant' \(columns: variant, DMS_score\)" out1.csv \
  "$ankh" score run --fasta wt.fasta --mutations no-mutant.csv --output out1.csv
expect_failure "no-protein.csv: the FASTA holds 2 records, so each row must name its protein, and there is no column 'protein'" out2.csv \
  "$ankh" score run --fasta wt.fasta --mutations no-protein.csv --output out2.csv
expect_failure "wrong-wt.csv:3 \(row 2\): mutant 'M1A:A3G': A3G names wild type A but protein 'P1' has T at position 3" out3.csv \
  "$ankh" score run --fasta wt.fasta --mutations wrong-wt.csv --output out3.csv
echo "OK: ankh score"
