#!/usr/bin/env bash
# Data-parallel training on real proteins, measured in one run (issue 6's benchmark):
#   1 rank                        micro-batch m, no communication   (the baseline)
#   2 ranks, dist.overlap=true    micro-batch m per rank: all-reduce during backward
#   2 ranks, dist.overlap=false   one all-reduce after backward
# Weak-scaling efficiency = tokens/s on 2 ranks / (2 x tokens/s on 1 rank); overlap hides =
# how much of the no-overlap run's communication wait disappears with overlap.
#
#   scripts/bench/train_scaling.sh [--config configs/ankh-small.yaml] [--steps 8] [--warmup 2]
#                                  [--micro-batch 4] [--max-length 128] [--threads 1] [--out DIR]
# Uses data/demo (the demo's 20,000 Swiss-Prot proteins), building it when missing. Prints a
# Markdown table; the runs stay in --out (default /tmp/ankh-bench-train).
set -euo pipefail
cd "$(dirname "$0")/../.."
config=configs/ankh-small.yaml steps=8 warmup=2 micro=4 max_length=128 threads=1 out=/tmp/ankh-bench-train
while (($#)); do
  case $1 in
    --config) config=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --micro-batch) micro=$2; shift 2 ;;
    --max-length) max_length=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "train_scaling: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
(( steps > warmup )) || { echo "train_scaling: --steps must exceed --warmup" >&2; exit 2; }
ankh=${ANKH_BINARY:-$(scripts/build.sh release >/dev/null && launch/find-ankh.sh)}
if [[ ! -f data/demo/manifest.yaml ]]; then
  scripts/get-proteins.sh >/dev/null
  "$ankh" preprocess --input data/raw/swissprot-first-20000.fasta --output data/demo --valid-fraction 0.02 >/dev/null
fi
rm -rf "$out" && mkdir -p "$out"

# run NAME NP [overrides]: trains `steps` steps, no validation or checkpoints, every step logged.
run() {
  local name=$1 np=$2; shift 2
  OMP_NUM_THREADS=$threads tests/run_mpi.sh "$np" "$ankh" train "$config" data.dataset=data/demo \
    "run.dir=$out/$name" "data.max_length=$max_length" "train.micro_batch=$micro" \
    "train.global_batch=$((np * micro))" "train.max_steps=$steps" train.log_every=1 train.eval_every=0 \
    checkpoint.every_steps=0 checkpoint.every_minutes=0 "$@" >"$out/$name.log" 2>&1 ||
    { tail -20 "$out/$name.log" >&2; exit 1; }
}
run one_rank 1
run two_overlap 2 dist.overlap=true
run two_no_overlap 2 dist.overlap=false

/usr/bin/python3 - "$out" "$warmup" "$config" "$micro" "$max_length" "$threads" <<'PY'
import json, sys
out, warmup = sys.argv[1], int(sys.argv[2])
def steady(name):
    records = [json.loads(l) for l in open(f"{out}/{name}/metrics.jsonl")]
    train = [r for r in records if r["event"] == "train" and r["step"] > warmup]
    seconds = sum(r["step_time_s"] for r in train)
    tokens = sum(r["tokens_per_s"] * r["step_time_s"] for r in train)
    return {"tok_s": tokens / seconds, "step_s": seconds / len(train),
            "comm_s": sum(r["comm_wait_s"] for r in train) / len(train),
            "mfu": sum(r["mfu"] * r["step_time_s"] for r in train) / seconds}
one, ov, no = steady("one_rank"), steady("two_overlap"), steady("two_no_overlap")
print(f"config {sys.argv[3]}, micro-batch {sys.argv[4]} x {sys.argv[5]} residues per rank, "
      f"{sys.argv[6]} thread(s) per rank, steps after {warmup} warm-up\n")
print("| run | tokens/s | step s | comm wait s/step | MFU | weak-scaling efficiency |")
print("|---|---|---|---|---|---|")
for name, r in [("1 rank", one), ("2 ranks, overlap", ov), ("2 ranks, no overlap", no)]:
    eff = r["tok_s"] / (2 * one["tok_s"]) if r is not one else 1.0
    print(f"| {name} | {r['tok_s']:.1f} | {r['step_s']:.3f} | {r['comm_s']:.4f} | {100*r['mfu']:.1f}% | {100*eff:.1f}% |")
# What overlap hides: the wait for the all-reduce after backward. Whether the step gets faster
# as well depends on spare cores: on a CPU whose cores all compute, the reduction itself competes
# with backward.
hidden = 1 - ov["comm_s"] / no["comm_s"] if no["comm_s"] > 0 else float("nan")
print(f"\noverlap: all-reduce wait after backward {no['comm_s']:.4f} -> {ov['comm_s']:.4f} s/step "
      f"({100*hidden:.0f}% hidden); step time {no['step_s']:.3f} -> {ov['step_s']:.3f} s "
      f"({100*(no['step_s']/ov['step_s']-1):+.1f}% speed)")
PY
