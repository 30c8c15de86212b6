#!/usr/bin/env bash
# How long a clean stop takes, as Slurm's warning would trigger it: a run on 2 ranks through
# launch/mpirun.sh on real proteins, SIGTERM to the launcher after --after-step steps, and the time
# from the signal to the launcher's exit (the rest of the step in flight, the checkpoint write and
# commit, the end-of-run checks). It must fit well inside `--signal=B:TERM@300`. Also prints the
# step time measured in the same run (the baseline: a stop costs at most about one step plus the
# save) and the size of the checkpoint written.
#
#   scripts/bench/stop_time.sh [--config configs/ankh-small.yaml] [--np 2] [--after-step 3]
#                              [--micro-batch 4] [--max-length 128] [--out DIR]
# Uses data/demo (the demo's 20,000 Swiss-Prot proteins), building it when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
config=configs/ankh-small.yaml np=2 after=3 micro=4 max_length=128 out=/tmp/ankh-bench-stop
while (($#)); do
  case $1 in
    --config) config=$2; shift 2 ;;
    --np) np=$2; shift 2 ;;
    --after-step) after=$2; shift 2 ;;
    --micro-batch) micro=$2; shift 2 ;;
    --max-length) max_length=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "stop_time: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
ankh=$(scripts/build.sh release >/dev/null && launch/find-ankh.sh)
if [[ ! -f data/demo/manifest.yaml ]]; then
  scripts/get-proteins.sh >/dev/null
  "$ankh" preprocess --input data/raw/swissprot-first-20000.fasta --output data/demo --valid-fraction 0.02 >/dev/null
fi
rm -rf "$out" && mkdir -p "$out"
run=$out/run

ANKH_BIN=$ankh launch/mpirun.sh -np "$np" "$config" data.dataset=data/demo "run.dir=$run" \
  "data.max_length=$max_length" "train.micro_batch=$micro" "train.global_batch=$((micro * np))" \
  train.max_steps=100000 train.log_every=1 train.eval_every=0 checkpoint.every_steps=0 checkpoint.every_minutes=0 \
  >"$out/run.log" 2>&1 &
pid=$!
until grep -q "\"step\":$after," "$run/metrics.jsonl" 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || { tail -20 "$out/run.log"; echo "stop_time: the run ended early" >&2; exit 1; }
  sleep 0.2
done
start=$(date +%s.%N)
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
end=$(date +%s.%N)
((status == 0)) || { tail -20 "$out/run.log"; echo "stop_time: the stop exited $status" >&2; exit 1; }

step=$(grep -oE 'stopping after step [0-9]+' "$out/run.log" | grep -oE '[0-9]+$')
ckpt=$(printf '%s/checkpoints/step-%08d' "$run" "$step")
step_time=$(/usr/bin/python3 - "$run/metrics.jsonl" <<'PY'
import json, sys
t = [r["step_time_s"] for r in map(json.loads, open(sys.argv[1])) if r["event"] == "train"][1:]  # step 1 warms up
print(f"{sorted(t)[len(t) // 2]:.2f}" if t else "n/a")
PY
)
echo "config $config, $np ranks x $micro x $max_length residues; SIGTERM after step $after"
echo "median step time (same run):  $step_time s"
echo "SIGTERM -> launcher exit:     $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s (stopped after step $step, exit 0)"
echo "checkpoint written:           $(du -sb "$ckpt" | cut -f1 | awk '{ printf "%.1f MiB", $1 / 1048576 }') ($ckpt)"
grep -E "checkpoint saved:" "$out/run.log" | tail -1 | sed 's/^.*\] //'
