#!/usr/bin/env bash
# run_lock.sh: run ownership (docs/architecture.md, "Run ownership"). Two `ankh train` jobs
# (mpirun -np 2) on one run directory: the second exits at once, non-zero, with an error naming
# the first's host, PID and start time, and writes nothing there (config.yaml, metrics.jsonl); the
# first trains on. After the first's rank 0 (the holder) is killed with SIGKILL, a new job takes
# the run over and says whose stale record it replaced; a clean exit leaves the record empty.
# The same for `ankh sweep` on its output directory.
source "$(dirname "$0")/common.sh"
make_dataset

# wait_for CONDITION PID: polls CONDITION (bash) while process PID lives; fails if PID ends first.
wait_for() {
  local i
  for ((i = 0; i < 1500; ++i)); do
    eval "$1" && return 0
    kill -0 "$2" 2>/dev/null || fail "process $2 ended before: $1"
    sleep 0.2
  done
  fail "still not true after 300 s: $1"
}
field() { sed -n "s/^$1: //p" "$2"; }

# --- ankh train -------------------------------------------------------------------------------
run=$work/run
long=(train.max_steps=100000 train.global_batch=8 train.micro_batch=4 checkpoint.every_steps=100000 train.log_every=50)
train 2 "$run" "${long[@]}" >"$work/first.log" 2>&1 &
first=$!
wait_for '[[ -s $run/ankh.lock ]] && grep -q "\"event\":\"train\"" "$run/metrics.jsonl" 2>/dev/null' $first
host=$(field host "$run/ankh.lock") pid=$(field pid "$run/ankh.lock") started=$(field started "$run/ankh.lock")
[[ -n $host && -n $pid && -n $started ]] || { cat "$run/ankh.lock"; fail "incomplete lock record"; }
grep -q "^command: ankh train$" "$run/ankh.lock" || fail "the record does not name ankh train"

status=0
timeout -k 5 120 "$run_mpi" 2 "$ANKH_BINARY" train "$ANKH_SOURCE_DIR/configs/ankh-tiny.yaml" "data.dataset=$work/dataset" \
  "run.dir=$run" "${tiny[@]}" "${long[@]}" train.log_every=7 >"$work/second.log" 2>&1 || status=$?
cat "$work/second.log"
(( status != 0 && status != 124 )) || fail "the second job did not fail on its own (exit status $status)"
grep -qF "$run is in use by another job: ankh train on host $host, PID $pid, started $started" "$work/second.log" ||
  fail "the error does not name the holder"
grep -qF "kill $pid" "$work/second.log" || fail "the hint does not say how to stop the holder"
grep -q "log_every: 50" "$run/config.yaml" || fail "the second job rewrote config.yaml"
(( $(grep -c '"event":"start"' "$run/metrics.jsonl") == 1 )) || fail "the second job wrote to metrics.jsonl"
kill -0 $first 2>/dev/null || fail "the first job stopped"

kill -KILL "$pid"  # the holder dies without a chance to clear its record
if wait $first; then fail "the first job exited 0 after its rank 0 was killed"; fi
[[ -s $run/ankh.lock ]] || fail "the killed holder's record is gone"

train 2 "$run" "${long[@]}" train.max_steps=2 checkpoint.resume=none >"$work/third.log" 2>&1 ||
  { cat "$work/third.log"; fail "a job after the killed one could not take the run"; }
grep -F "took over $run" "$work/third.log"
grep -qF "took over $run: its lock record says ankh train on host $host, PID $pid, started $started, which ended without releasing it" \
  "$work/third.log" || { cat "$work/third.log"; fail "the stale record was not reported"; }
[[ -e $run/ankh.lock && ! -s $run/ankh.lock ]] || fail "a clean exit left a lock record"

# --- ankh sweep -------------------------------------------------------------------------------
cat >"$work/sweep.yaml" <<YAML
base: $ANKH_SOURCE_DIR/configs/ankh-tiny.yaml
overrides:
  train.max_steps: 100000
  train.global_batch: 8
  train.micro_batch: 4
  checkpoint.every_steps: 100000
grid:
  objective.mask_prob: [0.15, 0.3]
YAML
sweep=("$ANKH_BINARY" sweep "$work/sweep.yaml" "data.dataset=$work/dataset" "${tiny[@]}" --output "$work/sweep" --no-plot)
"${sweep[@]}" >"$work/sweep-first.log" 2>&1 &
first=$!
wait_for '[[ -s $work/sweep/ankh.lock ]] && compgen -G "$work/sweep/*/ankh.lock" >/dev/null' $first
host=$(field host "$work/sweep/ankh.lock") pid=$(field pid "$work/sweep/ankh.lock") started=$(field started "$work/sweep/ankh.lock")
(( pid == first )) || fail "the sweep's lock names PID $pid, not the sweep ($first)"
status=0
timeout -k 5 120 "${sweep[@]}" --summary-only >"$work/sweep-second.log" 2>&1 || status=$?
cat "$work/sweep-second.log"
(( status != 0 && status != 124 )) || fail "the second sweep did not fail on its own (exit status $status)"
grep -qF "$work/sweep is in use by another job: ankh sweep on host $host, PID $pid, started $started" "$work/sweep-second.log" ||
  fail "the sweep error does not name the holder"
grep -qF "another --output" "$work/sweep-second.log" || fail "the sweep hint does not name --output"
[[ ! -e $work/sweep/summary.md ]] || fail "the second sweep wrote a summary"

# The sweep and its running `ankh train` child (named by the run's own lock) die at once.
child=$(cat "$work"/sweep/*/ankh.lock | sed -n 's/^pid: //p' | head -1)
kill -KILL "$first" "$child"
wait $first || true
"${sweep[@]}" --summary-only >"$work/sweep-third.log" 2>&1 || { cat "$work/sweep-third.log"; fail "summary after the kill"; }
grep -qF "took over $work/sweep: its lock record says ankh sweep on host $host, PID $pid, started $started" \
  "$work/sweep-third.log" || { cat "$work/sweep-third.log"; fail "the sweep's stale record was not reported"; }
[[ -f $work/sweep/summary.md ]] || fail "no summary after taking the sweep over"
echo PASS
