#!/usr/bin/env bash
# Launches ankh under mpirun: ranks per node, CPU/GPU binding, OMP_NUM_THREADS, the config and
# overrides passed through unchanged, and a clean stop on SIGTERM, SIGINT or SIGUSR1.
#
#   launch/mpirun.sh [options] [--] [COMMAND] CONFIG [section.key=value ...]
#
# COMMAND is an ankh subcommand that runs under mpirun (train, eval, embed, bench; default train).
#   -np, -n, --np N        total ranks (default: ranks per node x hosts)
#   --ranks-per-node K     ranks on each host (default: the GPUs nvidia-smi lists; without GPUs,
#                          --np on a single host, else 1)
#   --hostfile FILE        Open MPI hostfile for a multi-node job (each host: "node01 slots=8");
#                          inside a Slurm allocation mpirun takes the hosts from Slurm instead
#   --bind MODE            cores: each rank bound to its own --threads cores (default on CPU and GPU);
#                          socket: to a socket; none: no binding (forced when oversubscribing)
#   --threads T            OMP_NUM_THREADS per rank (default: this host's cores / ranks per node)
#   --stop-timeout S       after a stop signal, end the run if it has not exited within S seconds
#                          (default $ANKH_STOP_TIMEOUT, else 240: inside Slurm's 300 s warning)
#   --ankh PATH            ankh binary (default: what launch/find-ankh.sh prints: $ANKH_BIN, else
#                          build/release/bin/ankh of this checkout, else ankh in PATH)
#   --dry-run              print the command and run nothing
# Extra mpirun arguments: ANKH_MPIRUN_ARGS="--mca btl self,vader,tcp". GPUs: each rank uses the GPU
# of its local rank (0..K-1 on each host), so run one rank per GPU.
#
# Stopping: the first SIGTERM, SIGINT (Ctrl-C) or SIGUSR1 is passed to mpirun as SIGUSR1, which
# Open MPI forwards to every rank; each finishes its step, the job saves a checkpoint and exits 0.
# (mpirun itself must not get SIGTERM: it would end the ranks before they save.) A second signal,
# or --stop-timeout seconds without an exit, ends the run (SIGTERM to mpirun, then SIGKILL).
#
# Examples:
#   launch/mpirun.sh -np 2 configs/demo.yaml train.max_steps=100
#   launch/mpirun.sh --hostfile hosts --ranks-per-node 8 configs/ankh-base.yaml
#   launch/mpirun.sh -np 4 eval configs/ankh-tiny.yaml checkpoint.resume=runs/x/checkpoints/step-00001000
set -euo pipefail

me=launch/mpirun.sh
die() { echo "$me: $*" >&2; exit 2; }
say() { echo "$me: $*" >&2; }

np="" ranks_per_node="" hostfile="" bind=cores threads="" ankh="" dry_run=0
stop_timeout=${ANKH_STOP_TIMEOUT:-240}
while (($#)); do
  case $1 in
    -np|-n|--np) [[ $# -ge 2 ]] || die "$1 needs a value"; np=$2; shift 2 ;;
    --ranks-per-node) [[ $# -ge 2 ]] || die "$1 needs a value"; ranks_per_node=$2; shift 2 ;;
    --hostfile) [[ $# -ge 2 ]] || die "$1 needs a value"; hostfile=$2; shift 2 ;;
    --bind) [[ $# -ge 2 ]] || die "$1 needs a value"; bind=$2; shift 2 ;;
    --threads) [[ $# -ge 2 ]] || die "$1 needs a value"; threads=$2; shift 2 ;;
    --stop-timeout) [[ $# -ge 2 ]] || die "$1 needs a value"; stop_timeout=$2; shift 2 ;;
    --ankh) [[ $# -ge 2 ]] || die "$1 needs a value"; ankh=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) break ;;
  esac
done
(($#)) || die "no config given: $me [options] [COMMAND] CONFIG [key=value ...] (see --help)"
command=train
case $1 in
  train|eval|embed|bench) command=$1; shift ;;
esac
(($#)) || die "no config given after '$command'"

positive() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 wants a positive integer, got '$2'"; }
[[ -z $np ]] || positive --np "$np"
[[ -z $ranks_per_node ]] || positive --ranks-per-node "$ranks_per_node"
[[ -z $threads ]] || positive --threads "$threads"
positive --stop-timeout "$stop_timeout"
case $bind in cores|socket|none) ;; *) die "--bind wants cores, socket or none, got '$bind'" ;; esac
[[ -z $hostfile || -r $hostfile ]] || die "hostfile '$hostfile' not found or unreadable"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -n $ankh ]]; then
  [[ -x $ankh && -f $ankh ]] || die "ankh binary '$ankh' is not an executable file"
else
  ankh=$("$here/find-ankh.sh") || exit 2
fi
command -v mpirun >/dev/null || die "mpirun not found: install Open MPI (scripts/setup.sh)"

# Hosts and ranks per host.
hosts=1
if [[ -n $hostfile ]]; then
  hosts=$(grep -cEv '^[[:space:]]*(#|$)' "$hostfile") || true
  ((hosts > 0)) || die "hostfile '$hostfile' lists no hosts"
elif [[ -n ${SLURM_JOB_ID:-} ]]; then
  hosts=${SLURM_JOB_NUM_NODES:-1}
fi
if [[ -z $ranks_per_node ]]; then
  gpus=0
  if command -v nvidia-smi >/dev/null; then gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU') || true; fi
  if ((gpus > 0)); then ranks_per_node=$gpus
  elif [[ -n $np && $hosts -eq 1 ]]; then ranks_per_node=$np
  else ranks_per_node=1
  fi
fi
[[ -n $np ]] || np=$((ranks_per_node * hosts))
# This host's cores as this process may use them (affinity, cgroups); GNU nproc would answer
# OMP_NUM_THREADS instead when it is set.
cores=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
[[ -n $threads ]] || threads=$((cores / ranks_per_node > 0 ? cores / ranks_per_node : 1))

args=(-np "$np")
env=(OMP_NUM_THREADS="$threads")
if mpirun --version 2>&1 | grep -q 'Open MPI'; then
  # Open MPI refuses root unless told (containers and CI run as root).
  if ((EUID == 0)); then env+=(OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1); fi
  [[ -z $hostfile ]] || args+=(--hostfile "$hostfile")
  if ((hosts == 1 && ranks_per_node * threads > cores)); then
    # More rank threads than cores on one host (a small machine): allow it, and do not pin ranks
    # onto cores they would have to share.
    args+=(--oversubscribe --bind-to none)
  else
    case $bind in
      cores) args+=(--map-by "ppr:$ranks_per_node:node:PE=$threads" --bind-to core) ;;
      socket) args+=(--map-by "ppr:$ranks_per_node:node" --bind-to socket) ;;
      none) args+=(--map-by "ppr:$ranks_per_node:node" --bind-to none) ;;
    esac
  fi
  # Pass the thread count and the run's environment on to remote hosts.
  args+=(-x OMP_NUM_THREADS)
else
  [[ -z $hostfile ]] || args+=(-f "$hostfile")
  args+=(-ppn "$ranks_per_node")
fi
read -r -a extra <<<"${ANKH_MPIRUN_ARGS:-}"
args+=("${extra[@]}")

cmd=(env "${env[@]}" mpirun "${args[@]}" "$ankh" "$command" "$@")
say "$np rank(s), $ranks_per_node per host, $threads thread(s) each: ${cmd[*]}"
((dry_run)) && exit 0

# mpirun runs in a session of its own, so that Ctrl-C in a terminal reaches only this script
# (which passes it on as SIGUSR1) and never mpirun directly (which would end the ranks at once).
setsid "${cmd[@]}" &
pid=$!
signals=0 stop_start=0 enders=()

# Ends the run (in the background): SIGTERM to mpirun, which ends every rank; SIGKILL to whatever
# is left of its session 30 s later. `sleep` gets no output so that it holds no pipe of ours open.
# shellcheck disable=SC2317  # called from the trap handler
end_run() {
  (
    sleep "$1" >/dev/null 2>&1
    [[ -z $2 ]] || say "$2"
    kill -TERM "$pid" 2>/dev/null || true
    sleep 30 >/dev/null 2>&1
    pkill -KILL -s "$pid" 2>/dev/null || true
  ) &
  enders+=($!)
}

# shellcheck disable=SC2317  # called by trap
on_signal() {
  signals=$((signals + 1))
  if ((signals == 1)); then
    stop_start=$SECONDS
    say "$1: asking every rank to finish its step, save a checkpoint and exit (SIGUSR1 through mpirun);" \
      "a second signal, or ${stop_timeout} s without an exit, ends the run"
    kill -USR1 "$pid" 2>/dev/null || true
    end_run "$stop_timeout" "the run did not stop within ${stop_timeout} s of $1: ending it"
  else
    say "$1 again: ending the run now"
    end_run 0 ""
  fi
}
trap 'on_signal SIGTERM' TERM
trap 'on_signal SIGINT' INT
trap 'on_signal SIGUSR1' USR1
trap 'on_signal SIGHUP' HUP

# `wait` returns early when a trapped signal arrives: wait again while mpirun runs. The last
# `wait` gives mpirun's own exit status (bash keeps it after the process is gone).
while kill -0 "$pid" 2>/dev/null; do wait "$pid" || true; done
status=0
wait "$pid" || status=$?
((${#enders[@]} == 0)) || kill "${enders[@]}" 2>/dev/null || true
if ((signals > 0)); then
  if ((status == 0)); then
    say "the run stopped $((SECONDS - stop_start)) s after the signal, with a checkpoint (exit status 0)"
  else
    say "the run ended $((SECONDS - stop_start)) s after the signal with exit status $status"
  fi
fi
exit "$status"
