#!/usr/bin/env bash
# Extracts the real Swiss-Prot corpus shipped in Debian's `metastudent-data` package (459,503
# proteins, ~170 M residues) as FASTA, for benchmarks and the demo. Idempotent: files that already
# exist are kept, and every file is written under a temporary name and renamed when complete.
#
#   scripts/get-proteins.sh [--subset N] [--out DIR]
#
# Writes, under DIR (default data/raw):
#   swissprot.fasta           every protein, one record per protein
#   swissprot.fasta.gz        the same, gzip-compressed (for the gzip benchmark)
#   swissprot-first-N.fasta   the first N proteins (default 20000; the demo's dataset)
# and prints their paths. Then, for example:
#   ankh preprocess --input data/raw/swissprot-first-20000.fasta --output data/demo
set -euo pipefail

subset=20000
out=data/raw
while (($#)); do
  case $1 in
    --subset) subset=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "get-proteins: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ $subset =~ ^[1-9][0-9]*$ ]] || { echo "get-proteins: --subset wants a positive integer, got '$subset'" >&2; exit 2; }

db=/usr/share/metastudent-data/dataset_201401/MFO/goasp.fasta
if [[ ! -e $db.pin ]]; then
  echo "get-proteins: BLAST database $db not found" >&2
  echo "  hint: install Debian's metastudent-data and ncbi-blast+ (scripts/setup.sh does)" >&2
  exit 1
fi
command -v blastdbcmd >/dev/null || { echo "get-proteins: blastdbcmd not found (apt-get install ncbi-blast+)" >&2; exit 1; }

mkdir -p "$out"
full=$out/swissprot.fasta
gz=$full.gz
part=$out/swissprot-first-$subset.fasta

# Each step writes $target.tmp-$$ and renames it, so an interrupted run never leaves a partial
# file under a final name (the next run simply redoes that step).
tmp_files=()
cleanup() { rm -f "${tmp_files[@]}"; }
trap cleanup EXIT

if [[ ! -s $full ]]; then
  echo "get-proteins: extracting Swiss-Prot from $db ..." >&2
  tmp=$full.tmp-$$; tmp_files+=("$tmp")
  # Keep blastdbcmd's wrapped lines, as real FASTA files (UniRef50) are wrapped too. Its titles
  # are "ACCESSION|GO:...,GO:..."; a space after the accession makes that the record id and the
  # GO terms the description, as in UniProt/UniRef headers.
  blastdbcmd -db "$db" -entry all -outfmt %f | sed '/^>/s/|/ /' > "$tmp"
  mv "$tmp" "$full"
fi

if [[ ! -s $gz || $gz -ot $full ]]; then
  echo "get-proteins: compressing $full ..." >&2
  tmp=$gz.tmp-$$; tmp_files+=("$tmp")
  gzip -c -6 "$full" > "$tmp"
  mv "$tmp" "$gz"
fi

if [[ ! -s $part || $part -ot $full ]]; then
  tmp=$part.tmp-$$; tmp_files+=("$tmp")
  # Stop after the header of record N+1.
  awk -v n="$subset" '/^>/ { if (++records > n) exit } { print }' "$full" > "$tmp"
  mv "$tmp" "$part"
fi

records=$(grep -c '^>' "$full")
echo "get-proteins: $records proteins in $full ($(du -h "$full" | cut -f1)), $gz ($(du -h "$gz" | cut -f1)), first $subset in $part" >&2
printf '%s\n' "$full" "$gz" "$part"
