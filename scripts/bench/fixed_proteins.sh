#!/usr/bin/env bash
# Writes COUNT random proteins of MIN..MAX residues as FASTA to stdout, from a fixed linear
# congruential generator: the same bytes on every machine, no Python needed. For tests and checks
# that need generated data of a known shape, not for training.
#   scripts/bench/fixed_proteins.sh COUNT MIN MAX SEED [ID_PREFIX] [DESCRIPTION]
set -euo pipefail
[[ $# -ge 4 ]] || { echo "usage: $0 COUNT MIN MAX SEED [ID_PREFIX] [DESCRIPTION]" >&2; exit 2; }
awk -v count="$1" -v lo="$2" -v hi="$3" -v seed="$4" -v prefix="${5:-P}" -v what="${6:-generated protein}" 'BEGIN {
  aa = "ACDEFGHIKLMNPQRSTVWY"; s = seed
  for (i = 0; i < count; ++i) {
    s = (s * 1103515245 + 12345) % 2147483648; n = lo + s % (hi - lo + 1)
    printf(">%s%05d %s %d\n", prefix, i, what, i); line = ""
    for (j = 0; j < n; ++j) { s = (s * 1103515245 + 12345) % 2147483648; line = line substr(aa, 1 + int(s / 65536) % 20, 1) }
    print line
  } }'
