#!/usr/bin/env bash
# One ankh training run inside a Slurm job, resumed across requeues: the body of
# launch/slurm.sbatch and of the job arrays `ankh sweep --emit-slurm` writes.
#
#   launch/slurm-run.sh CONFIG [section.key=value ...]
#
#   1. `ankh status`: a run that is already complete exits 0 at once.
#   2. launch/mpirun.sh with the job's geometry: SLURM_NTASKS ranks, SLURM_NTASKS_PER_NODE per
#      node, OMP_NUM_THREADS from SLURM_CPUS_PER_TASK (else the node's CPUs / ranks per node).
#      `ankh train` resumes from the newest committed checkpoint (checkpoint.resume=auto).
#   3. A stop signal (Slurm's --signal=B:TERM@300 before the time limit, on preemption with
#      preempt_send_user_signal, or `scancel --batch --signal=TERM`) reaching this script is passed
#      to launch/mpirun.sh: every rank finishes its step, saves, and the run exits 0.
#   4. Exit 0 but not complete: `scontrol requeue` (the array task, in a job array); the requeued
#      job runs this again and resumes. Non-zero: the job fails and is not requeued, so a broken
#      config cannot loop.
#   The run directory belongs to one job at a time (RUN/ankh.lock): this script requeues only after
#   its own run has exited, so the requeued job finds the lock free. If another job still holds
#   it (a double submission, ranks left running on a failed node), `ankh train` fails at once,
#   naming that job's host, PID and start time, and this job is not requeued: waiting would not
#   make two trainers safe, and the holder may never go away by itself.
# Environment: ANKH_BIN (see launch/find-ankh.sh), ANKH_MPIRUN_ARGS, ANKH_STOP_TIMEOUT.
set -euo pipefail

me=slurm-run
say() { echo "$me: $*"; }
: "${SLURM_JOB_ID:?run this inside a Slurm job (sbatch launch/slurm.sbatch CONFIG ...)}"
(($#)) || { echo "$me: usage: launch/slurm-run.sh CONFIG [key=value ...]" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ankh=$("$here/find-ankh.sh")
export ANKH_BIN=$ankh

job=$SLURM_JOB_ID
[[ -z ${SLURM_ARRAY_JOB_ID:-} ]] || job=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}
# run_state: `ankh status` into $state; true when complete, false when not yet; exits on errors.
run_state() {
  local rc=0
  state=$("$ankh" status "$@") || rc=$?
  ((rc == 0 || rc == 3)) || exit "$rc"
  ((rc == 0))
}
if run_state "$@"; then
  say "$state: nothing to do"
  exit 0
fi

nodes=${SLURM_JOB_NUM_NODES:-1}
ranks=${SLURM_NTASKS:-$nodes}
ranks_per_node=${SLURM_NTASKS_PER_NODE:-$(((ranks + nodes - 1) / nodes))}
cpus_per_rank=${SLURM_CPUS_PER_TASK:-$((${SLURM_CPUS_ON_NODE:-$ranks_per_node} / ranks_per_node))}
((cpus_per_rank > 0)) || cpus_per_rank=1

say "job $job (restart ${SLURM_RESTART_COUNT:-0}) on $(hostname) at $(date -Is): $state"
say "$ranks rank(s), $ranks_per_node per node on $nodes node(s), $cpus_per_rank thread(s) each; ankh $ankh"
"$here/mpirun.sh" --np "$ranks" --ranks-per-node "$ranks_per_node" --threads "$cpus_per_rank" train "$@" &
pid=$!
# Passed on as it came; launch/mpirun.sh turns the first into a clean stop, a second into an end.
for sig in TERM INT USR1; do
  # shellcheck disable=SC2064  # $sig is expanded now, $pid when the signal comes
  trap "say 'SIG$sig received: passing it to the run'; kill -$sig \"\$pid\" 2>/dev/null || true" "$sig"
done
while kill -0 "$pid" 2>/dev/null; do wait "$pid" || true; done
status=0
wait "$pid" || status=$?

if run_state "$@"; then
  say "$state"
  exit 0
fi
if ((status == 0)); then
  say "$state; requeueing job $job to resume"
  # Requeueing ends this job step with SIGTERM: nothing is left to pass on.
  trap '' TERM
  scontrol requeue "$job" || { echo "$me: requeue refused; submit the job again to resume" >&2; exit 1; }
  exit 0
fi
echo "$me: the run failed (exit status $status): $state; see the error above and the run's logs/rank-N.log" >&2
exit "$status"
