#!/usr/bin/env bash
# Launches ankh under mpirun: ranks per node, CPU/GPU binding, OMP_NUM_THREADS, and the config
# and overrides passed through unchanged.
#
#   launch/mpirun.sh [options] [--] [COMMAND] CONFIG [section.key=value ...]
#
# COMMAND is an ankh subcommand that runs under mpirun (train, eval, embed, bench; default train).
#   -n, --np N             total ranks (default: ranks per node x hosts in --hostfile, or ranks per node)
#   --ranks-per-node K     ranks on each host (default: the GPUs nvidia-smi lists; without GPUs,
#                          --np on a single host, else 1)
#   --hostfile FILE        Open MPI hostfile for a multi-node job (each host: "node01 slots=8")
#   --bind MODE            cores: each rank bound to its own --threads cores (default on CPU and GPU);
#                          socket: to a socket; none: no binding (forced when oversubscribing)
#   --threads T            OMP_NUM_THREADS per rank (default: this host's cores / ranks per node)
#   --ankh PATH            ankh binary (default: $ANKH_BIN, else build/lead/trainer/ankh, else ankh in PATH)
#   --dry-run              print the command and run nothing
# Extra mpirun arguments: ANKH_MPIRUN_ARGS="--mca btl self,vader,tcp". GPUs: each rank uses the GPU
# of its local rank (0..K-1 on each host), so run one rank per GPU.
#
# Examples:
#   launch/mpirun.sh --np 2 configs/demo.yaml train.max_steps=100
#   launch/mpirun.sh --hostfile hosts --ranks-per-node 8 configs/ankh-base.yaml
#   launch/mpirun.sh --np 4 eval configs/ankh-tiny.yaml checkpoint.resume=runs/x/checkpoints/step-00001000
set -euo pipefail

die() { echo "launch/mpirun.sh: $*" >&2; exit 2; }

np="" ranks_per_node="" hostfile="" bind=cores threads="" ankh=${ANKH_BIN:-} dry_run=0
while (($#)); do
  case $1 in
    -n|--np) [[ $# -ge 2 ]] || die "$1 needs a value"; np=$2; shift 2 ;;
    --ranks-per-node) [[ $# -ge 2 ]] || die "$1 needs a value"; ranks_per_node=$2; shift 2 ;;
    --hostfile) [[ $# -ge 2 ]] || die "$1 needs a value"; hostfile=$2; shift 2 ;;
    --bind) [[ $# -ge 2 ]] || die "$1 needs a value"; bind=$2; shift 2 ;;
    --threads) [[ $# -ge 2 ]] || die "$1 needs a value"; threads=$2; shift 2 ;;
    --ankh) [[ $# -ge 2 ]] || die "$1 needs a value"; ankh=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) break ;;
  esac
done
(($#)) || die "no config given: launch/mpirun.sh [options] [COMMAND] CONFIG [key=value ...] (see --help)"
command=train
case $1 in
  train|eval|embed|bench) command=$1; shift ;;
esac
(($#)) || die "no config given after '$command'"

positive() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 wants a positive integer, got '$2'"; }
[[ -z $np ]] || positive --np "$np"
[[ -z $ranks_per_node ]] || positive --ranks-per-node "$ranks_per_node"
[[ -z $threads ]] || positive --threads "$threads"
case $bind in cores|socket|none) ;; *) die "--bind wants cores, socket or none, got '$bind'" ;; esac
[[ -z $hostfile || -r $hostfile ]] || die "hostfile '$hostfile' not found or unreadable"

if [[ -z $ankh ]]; then
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  if [[ -x $here/build/lead/trainer/ankh ]]; then ankh=$here/build/lead/trainer/ankh
  elif command -v ankh >/dev/null; then ankh=$(command -v ankh)
  else die "ankh binary not found: build it (scripts/build.sh), or give --ankh PATH or ANKH_BIN"
  fi
fi
[[ -x $ankh ]] || die "ankh binary '$ankh' is not executable"
command -v mpirun >/dev/null || die "mpirun not found: install Open MPI (scripts/setup.sh)"

# Hosts and ranks per host.
hosts=1
if [[ -n $hostfile ]]; then
  hosts=$(grep -cEv '^[[:space:]]*(#|$)' "$hostfile") || true
  ((hosts > 0)) || die "hostfile '$hostfile' lists no hosts"
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
cores=$(nproc)
[[ -n $threads ]] || threads=$((cores / ranks_per_node > 0 ? cores / ranks_per_node : 1))

args=(-np "$np")
env=(OMP_NUM_THREADS="$threads")
if mpirun --version 2>&1 | grep -q 'Open MPI'; then
  # Open MPI refuses root unless told (containers and CI run as root).
  if ((EUID == 0)); then env+=(OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1); fi
  [[ -z $hostfile ]] || args+=(--hostfile "$hostfile")
  if [[ -z $hostfile ]] && ((np * threads > cores)); then
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
echo "launch/mpirun.sh: $np rank(s), $ranks_per_node per host, $threads thread(s) each: ${cmd[*]}" >&2
((dry_run)) && exit 0
exec "${cmd[@]}"
