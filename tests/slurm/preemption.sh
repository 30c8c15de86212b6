#!/usr/bin/env bash
# preemption.sh: a 2-rank run submitted with `sbatch launch/slurm.sbatch` to a real one-node Slurm
# (tests/slurm/cluster.sh), sent what Slurm sends before a time limit or on preemption (SIGTERM to
# the batch shell: `scancel --batch --signal=TERM`) after its first checkpoint. It must save a
# checkpoint at the step it stopped, requeue itself, resume when Slurm restarts it, finish, and
# log per-step losses identical to an uninterrupted run's. Exits 77 (skipped) without Slurm.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../train/common.sh"
source "$here/cluster.sh"
slurm_test_cluster
make_dataset
cd "$ANKH_SOURCE_DIR"
unset ANKH_BIN
[[ $ANKH_BINARY == "$ANKH_SOURCE_DIR/build/release/bin/ankh" ]] || export ANKH_BIN=$ANKH_BINARY

# Slower steps than the other scenarios (about 70 ms on one core), so that the signal lands
# mid-run; a checkpoint every 20 steps.
run_args=(configs/ankh-tiny.yaml "data.dataset=$work/dataset" "${tiny[@]}" model.d_model=128 model.num_heads=4
          model.d_kv=32 model.d_ff=512 model.encoder_layers=3 model.decoder_layers=3 data.max_length=128
          train.max_steps=120 train.global_batch=8 train.micro_batch=4 checkpoint.every_steps=20)

# The uninterrupted reference, under plain mpirun.
"$run_mpi" 2 "$ANKH_BINARY" train "${run_args[@]}" "run.dir=$work/full" >"$work/full.log" 2>&1 ||
  { tail -20 "$work/full.log"; fail "the reference run failed"; }

job=$(sbatch --parsable --job-name=ankh-preempt --ntasks-per-node=2 --gpus-per-node=0 --time=10:00 \
        --output="$work/job.out" launch/slurm.sbatch "${run_args[@]}" "run.dir=$work/run")
echo "submitted job $job"
job_state() { scontrol show job "$job" 2>/dev/null | grep -oE 'JobState=[A-Z_]+' | cut -d= -f2; }
show_job() { echo "--- $work/job.out"; cat "$work/job.out" 2>/dev/null; echo "--- squeue"; squeue; }
trap 'show_job; tail -20 "$work/slurm/log/slurmctld.log"' ERR

# After the first checkpoint (step 20), what Slurm's --signal=B:TERM sends: SIGTERM to the batch shell.
slurm_wait_for 120 test -f "$(checkpoint "$work/run" 20)/COMMITTED" || { show_job; fail "no step-20 checkpoint"; }
scancel --batch --signal=TERM "$job"
term_at=$(date +%s.%N)
echo "SIGTERM sent to the batch shell of job $job at step $(grep -c '"event":"train"' "$work/run/metrics.jsonl")"

slurm_wait_for 120 grep -q "requeueing job" "$work/job.out" || { show_job; fail "the job did not requeue itself"; }
step=$(grep -oE 'stopping after step [0-9]+ on (SIGUSR1|a stop signal) \(received by [12] of 2 rank' "$work/job.out" | grep -oE '[0-9]+' | head -1)
[[ -n $step ]] || { show_job; fail "no 'stopping after step N on SIGUSR1 (received by N of 2 rank(s))' in the job output"; }
((step < 120)) || fail "the run finished before the signal took effect"
[[ -f $(checkpoint "$work/run" "$step")/COMMITTED ]] || fail "no committed checkpoint of step $step"
echo "stopped at step $step, $(awk -v t="$term_at" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - t }') s after" \
  "SIGTERM at most; checkpoint $(checkpoint "$work/run" "$step") ($(du -sh "$(checkpoint "$work/run" "$step")" | cut -f1))"
grep "slurm-run:" "$work/job.out"

# The requeued job starts again (after cred_expire, 10 s here) and resumes to the end.
for _ in $(seq 1 240); do
  [[ $(job_state) == COMPLETED ]] && break
  [[ $(job_state) =~ ^(FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY)$ ]] && { show_job; fail "job $job ended $(job_state)"; }
  sleep 1
done
[[ $(job_state) == COMPLETED ]] || { show_job; fail "job $job did not complete after the requeue (state $(job_state))"; }
restarts=$(scontrol show job "$job" | grep -oE 'Restarts=[0-9]+' | cut -d= -f2)
((restarts == 1)) || fail "job $job restarted $restarts times, expected 1"
grep -q "job $job (restart 1)" "$work/job.out" || { show_job; fail "the job output does not show restart 1"; }
grep -q "resumed from .*(step $step," "$work/run/logs/rank-0.log" || fail "the requeued run did not resume from step $step"
"$ANKH_BINARY" status "${run_args[@]}" "run.dir=$work/run" || fail "ankh status: the run is not complete"
"$ANKH_COMPARE" losses "$work/full" "$work/run" --rtol 0
"$ANKH_COMPARE" params "$(checkpoint "$work/full" 120)" "$(checkpoint "$work/run" 120)" --rtol 0
echo "--- $work/job.out"
grep -E "slurm-run:|launch/mpirun.sh: SIG|stopping after|resumed from|done:" "$work/job.out"
echo PASS
