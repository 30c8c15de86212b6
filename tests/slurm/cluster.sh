# shellcheck shell=bash
# A one-node Slurm cluster in a temporary directory, for tests: munged, slurmctld and slurmd run
# as root with their own sockets, ports, state and logs, so they touch nothing of the machine's.
# Sourced, not run:
#   source tests/slurm/cluster.sh
#   slurm_start DIR || skip "..."   # exports SLURM_CONF; $slurm_why says why it failed
#   ... sbatch / squeue / scontrol / scancel ...
#   slurm_stop                      # stops the daemons it started, by PID
# Test scripts that have sourced tests/train/common.sh call slurm_test_cluster instead: the cluster
# under $work/slurm, stopped (and $work removed) at exit, or exit 77 (skipped) with the reason.
# Needs root (the daemons run as root), and Debian's slurmctld, slurmd, munge and slurm-client.

slurm_pids=()
slurm_why=""

# A free TCP port on loopback (the kernel picks it).
slurm_free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'
}

# slurm_wait_for SECONDS COMMAND...: polls COMMAND every 0.5 s; false if it never succeeded.
slurm_wait_for() {
  local seconds=$1; shift
  local tries=$((seconds * 2))
  while ((tries-- > 0)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}

slurm_start() {
  local dir=$1 host cpus memory_mb ctld_port slurmd_port
  if ((EUID != 0)); then slurm_why="the Slurm daemons need root"; return 1; fi
  for program in munged mungekey slurmctld slurmd sbatch scontrol squeue scancel; do
    command -v "$program" >/dev/null || [[ -x /usr/sbin/$program ]] ||
      { slurm_why="$program not installed (scripts/setup.sh installs slurmctld, slurmd, munge)"; return 1; }
  done
  mkdir -p "$dir"/{munge,state,spool,log}
  chmod 700 "$dir" "$dir/munge"
  host=$(hostname -s)
  cpus=$(nproc --all)
  memory_mb=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)

  /usr/sbin/mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null 2>&1 ||
    { slurm_why="mungekey could not create a key"; return 1; }
  /usr/sbin/munged --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" \
    --force 2>"$dir/log/munged.err" ||
    { slurm_why="munged did not start: $(cat "$dir/log/munged.err" "$dir/log/munged.log" 2>/dev/null | tail -2)"; return 1; }
  slurm_wait_for 10 test -s "$dir/munge/munged.pid" || { slurm_why="munged wrote no PID file"; return 1; }
  slurm_pids+=("$(cat "$dir/munge/munged.pid")")

  ctld_port=$(slurm_free_port)
  slurmd_port=$(slurm_free_port)
  cat >"$dir/slurm.conf" <<CONF
ClusterName=ankhtest
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# A requeued job waits until its job credential expires (120 s by default) before it may start.
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
JobRequeue=1
KillWait=30
MinJobAge=600
SlurmdTimeout=60
NodeName=$host CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
  export SLURM_CONF=$dir/slurm.conf
  /usr/sbin/slurmctld -f "$SLURM_CONF" -c -i 2>"$dir/log/slurmctld.err" ||
    { slurm_why="slurmctld did not start: $(tail -3 "$dir/log/slurmctld.err" "$dir/log/slurmctld.log" 2>/dev/null)"; return 1; }
  slurm_wait_for 20 test -s "$dir/slurmctld.pid" || { slurm_why="slurmctld wrote no PID file"; return 1; }
  slurm_pids+=("$(cat "$dir/slurmctld.pid")")
  /usr/sbin/slurmd -f "$SLURM_CONF" -N "$host" 2>"$dir/log/slurmd.err" ||
    { slurm_why="slurmd did not start: $(tail -3 "$dir/log/slurmd.err" "$dir/log/slurmd.log" 2>/dev/null)"; return 1; }
  slurm_wait_for 20 test -s "$dir/slurmd.pid" || { slurm_why="slurmd wrote no PID file"; return 1; }
  slurm_pids+=("$(cat "$dir/slurmd.pid")")
  if ! slurm_wait_for 60 bash -c "sinfo -h -N -o '%t' | grep -qE '^(idle|mix|alloc)'"; then
    slurm_why="the node never became idle: $(sinfo -h -N -o '%N %t %E' 2>&1; tail -3 "$dir/log/slurmd.log")"
    return 1
  fi
}

slurm_stop() {
  local pid
  for pid in "${slurm_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${slurm_pids[@]}"; do
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  slurm_pids=()
}

slurm_test_cluster() {
  # shellcheck disable=SC2154  # $work comes from tests/train/common.sh
  trap 'slurm_stop; rm -rf "$work"' EXIT
  slurm_start "$work/slurm" || { echo "SKIPPED: no Slurm here: $slurm_why"; exit 77; }
}
