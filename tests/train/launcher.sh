#!/usr/bin/env bash
# launcher.sh: launch/mpirun.sh as a user runs it (`-np 2`, no ANKH_BIN: the binary is found by
# launch/find-ankh.sh), and its stop path:
#   - SIGTERM to the launcher: every rank finishes its step, saves, the job exits 0; the next launch
#     resumes, and the per-step losses equal those of an uninterrupted run bit for bit;
#   - a second SIGTERM ends a run that cannot stop (a rank hung), and so does --stop-timeout;
#   - rank logs hold the lines of a run killed with SIGKILL (flushed every 2 s, not only at exit).
source "$(dirname "$0")/common.sh"
make_dataset
launcher=$ANKH_SOURCE_DIR/launch/mpirun.sh
unset ANKH_BIN
# The binary the launcher finds must be the one under test: the release build of this checkout
# (what CI builds), else the one put first in PATH.
if [[ $ANKH_BINARY != "$ANKH_SOURCE_DIR/build/release/bin/ankh" ]]; then
  if [[ -x $ANKH_SOURCE_DIR/build/release/bin/ankh ]]; then export ANKH_BIN=$ANKH_BINARY
  else PATH=$(dirname "$ANKH_BINARY"):$PATH
  fi
fi
common=(train.max_steps=40 train.global_batch=8 train.micro_batch=4 checkpoint.every_steps=10)
config=("$ANKH_SOURCE_DIR/configs/ankh-tiny.yaml" "data.dataset=$work/dataset" "${tiny[@]}" "${common[@]}")

# wait_for_step RUN N: until RUN/metrics.jsonl has a train record at step >= N (60 s at most).
wait_for_step() {
  for _ in $(seq 1 600); do
    [[ -f $1/metrics.jsonl ]] && awk -v n="$2" -F'"step":' '/"event":"train"/ { split($2, a, ","); if (a[1] + 0 >= n) found = 1 } END { exit !found }' "$1/metrics.jsonl" && return 0
    sleep 0.1
  done
  fail "$1 never reached step $2"
}

# -np as mpirun users type it; the dry run shows the binary found.
"$launcher" -np 2 --dry-run "${config[@]}" "run.dir=$work/dry" 2>"$work/dry.log"
grep -q "launch/mpirun.sh: 2 rank(s), 2 per host" "$work/dry.log" || fail "dry run: $(cat "$work/dry.log")"
grep -qF "$ANKH_BINARY train" "$work/dry.log" || fail "the launcher did not find $ANKH_BINARY: $(cat "$work/dry.log")"

train 2 "$work/full" "${common[@]}" >"$work/full.log" 2>&1

# 1. One SIGTERM: a clean stop with a checkpoint, exit 0.
"$launcher" -np 2 "${config[@]}" "run.dir=$work/run" train.max_steps=100000 >"$work/stopped.log" 2>&1 &
pid=$!
wait_for_step "$work/run" 5
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
cat "$work/stopped.log"
((status == 0)) || fail "the launcher exited $status after one SIGTERM; a clean stop exits 0"
grep -q "launch/mpirun.sh: SIGTERM: asking every rank to finish its step" "$work/stopped.log" || fail "no relay message"
step=$(grep -oE 'stopping after step [0-9]+ on SIGUSR1 \(received by 2 of 2 rank' "$work/stopped.log" | grep -oE '[0-9]+' | head -1)
[[ -n $step ]] || fail "no 'stopping after step N on SIGUSR1 (received by 2 of 2 rank(s))'"
[[ -f $(checkpoint "$work/run" "$step")/COMMITTED ]] || fail "no committed checkpoint of step $step"
grep -q "the run stopped [0-9]* s after the signal, with a checkpoint" "$work/stopped.log" || fail "no final launcher line"
for rank in 0 1; do
  grep -q "received SIGUSR1: finishing step" "$work/run/logs/rank-$rank.log" || fail "rank $rank's log does not say it heard SIGUSR1"
done
echo "stopped at step $step"

# 2. The next launch resumes to the end; the losses are those of the uninterrupted run.
if ((step < 40)); then
  "$launcher" -np 2 "${config[@]}" "run.dir=$work/run" >"$work/resumed.log" 2>&1 || { cat "$work/resumed.log"; fail "resume failed"; }
  grep -q "resumed from .*(step $step," "$work/resumed.log" || fail "did not resume from step $step"
  "$ANKH_BINARY" status "${config[@]}" "run.dir=$work/run" || fail "ankh status: not complete after the resume"
  "$ANKH_COMPARE" losses "$work/full" "$work/run" --rtol 0
fi

# 3. A rank that cannot stop (hung at step 8): a second SIGTERM ends the job, non-zero, at once.
hung() {
  ANKH_INJECT_FAULT=hang@step=8@rank=1 "$launcher" -np 2 "$@" "${config[@]}" "run.dir=$work/$name" \
    train.max_steps=100000 dist.timeout_s=600 >"$work/$name.log" 2>&1 &
  pid=$!
  wait_for_step "$work/$name" 7
  sleep 1
}
name=second_signal
hung
kill -TERM "$pid"; sleep 1; start=$SECONDS; kill -TERM "$pid"
status=0
wait "$pid" || status=$?
cat "$work/$name.log"
((status != 0)) || fail "a run ended by a second signal exited 0"
((SECONDS - start < 30)) || fail "the second signal took $((SECONDS - start)) s to end the run"
grep -q "SIGTERM again: ending the run now" "$work/$name.log" || fail "no 'ending the run now'"

name=stop_timeout
start=$SECONDS
hung --stop-timeout 3
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
cat "$work/$name.log"
((status != 0)) || fail "a run that did not stop within --stop-timeout exited 0"
grep -q "the run did not stop within 3 s of SIGTERM: ending it" "$work/$name.log" || fail "no stop-timeout message"
((SECONDS - start < 60)) || fail "--stop-timeout 3 took $((SECONDS - start)) s"

# 4. Logs survive SIGKILL: the lines of the killed run are in its rank logs.
"$launcher" -np 2 "${config[@]}" "run.dir=$work/killed" train.max_steps=100000 train.log_every=1 >"$work/killed.log" 2>&1 &
pid=$!
wait_for_step "$work/killed" 5
sleep 3  # longer than the 2 s flush interval
pkill -KILL -f "run.dir=$work/killed" || true
wait "$pid" || true
grep -q "training .* parameters on 2 rank" "$work/killed/logs/rank-0.log" || fail "rank-0.log of a killed run lacks its start"
grep -q "step [0-9]*/100000" "$work/killed/logs/rank-0.log" || fail "rank-0.log of a killed run lacks its steps"
[[ -s $work/killed/logs/rank-1.log ]] || fail "rank-1.log of a killed run is empty"
echo PASS
