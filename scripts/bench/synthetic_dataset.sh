#!/usr/bin/env bash
# Makes a synthetic dataset of N proteins for scale tests (not committed, not for training):
#   scripts/bench/synthetic_dataset.sh SEQUENCES DIR [SEED]
# 15,000,000 sequences give ~4.7 G residues (a 4.7 GB dataset); 33,000,000 give ~10 GB.
# The FASTA is written beside DIR (`ankh preprocess` reads a seekable file) and removed after.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[[ $# -ge 2 ]] || { echo "usage: $0 SEQUENCES DIR [SEED]" >&2; exit 2; }
ankh=$("$here/../../launch/find-ankh.sh")
fasta="$2.fasta"
trap 'rm -f "$fasta"' EXIT
/usr/bin/python3 "$here/synthetic_fasta.py" "$1" --seed "${3:-0}" > "$fasta"
"$ankh" preprocess -i "$fasta" -o "$2" --no-progress --shard-mb 1024
