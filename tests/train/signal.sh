#!/usr/bin/env bash
# signal.sh: SIGTERM to one rank (Slurm preemption signals every task; one is the hard case) stops
# the whole 2-rank job after the current step with exit 0 and a committed checkpoint of that step;
# the next launch resumes from it.
source "$(dirname "$0")/common.sh"
make_dataset
run=$work/preempted
common=(train.max_steps=100000 train.global_batch=8 train.micro_batch=4 checkpoint.every_steps=0)
train 2 "$run" "${common[@]}" >"$work/preempted.log" 2>&1 &
launcher=$!

# Wait for step 5, then signal rank 1 only.
for _ in $(seq 1 600); do
  grep -q '"step":5,' "$run/metrics.jsonl" 2>/dev/null && break
  sleep 0.1
done
grep -q '"step":5,' "$run/metrics.jsonl" || fail "the run never reached step 5"
rank1=$(pgrep -f "run.dir=$run" | while read -r pid; do
  [[ $(ps -o comm= -p "$pid") == ankh ]] && grep -qz '^OMPI_COMM_WORLD_RANK=1$' "/proc/$pid/environ" && echo "$pid"
done)
[[ -n $rank1 ]] || fail "rank 1 not found"
kill -TERM "$rank1"
status=0
wait "$launcher" || status=$?
cat "$work/preempted.log"
(( status == 0 )) || fail "a preempted run should exit 0 (checkpoint saved), got $status"
step=$(grep -oE 'stopping after step [0-9]+ on a stop signal \(received by 1 of 2 rank' "$work/preempted.log" | grep -oE '[0-9]+' | head -1)
[[ -n $step ]] || fail "no 'stopping after step N on a stop signal (received by 1 of 2 rank(s))'"
[[ -f $(checkpoint "$run" "$step")/COMMITTED ]] || fail "no committed checkpoint of step $step"
tail -1 "$run/metrics.jsonl" | grep -q '"reason":"signal"' || fail "metrics.jsonl does not end with reason signal"

train 2 "$run" "${common[@]}" train.max_steps=$((step + 3)) 2>&1 | tee "$work/resumed.log"
grep -q "resumed from .*(step $step," "$work/resumed.log" || fail "did not resume from step $step"
echo PASS
