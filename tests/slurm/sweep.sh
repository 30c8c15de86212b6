#!/usr/bin/env bash
# sweep.sh: a 2-run sweep on CPU nodes through a real one-node Slurm (tests/slurm/cluster.sh):
# `ankh sweep --emit-slurm --gpus-per-node 0 --ranks-per-node 2`, `sbatch` of the job array it
# writes, both array tasks complete, and `ankh sweep --summary-only` reports 2 completed runs.
# Exits 77 (skipped) without Slurm.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../train/common.sh"
source "$here/cluster.sh"
slurm_test_cluster
make_dataset
unset ANKH_BIN

cat >"$work/mask.yaml" <<YAML
base: $ANKH_SOURCE_DIR/configs/ankh-tiny.yaml
overrides:
  train.max_steps: 20
  train.global_batch: 8
  train.micro_batch: 4
  checkpoint.every_steps: 10
grid:
  objective.mask_prob: [0.15, 0.3]
YAML
sweep=("$ANKH_BINARY" sweep "$work/mask.yaml" "data.dataset=$work/dataset" "${tiny[@]}" --output "$work/sweep" --no-plot)
"${sweep[@]}" --emit-slurm "$work/mask.sbatch" --gpus-per-node 0 --ranks-per-node 2 --time 10:00 | tee "$work/emit.log"
grep -q "2 array task(s)" "$work/emit.log" || fail "the emitted script does not have 2 array tasks"
grep -q "^#SBATCH --ntasks-per-node=2$" "$work/mask.sbatch" || fail "no --ntasks-per-node=2 line"
if grep -q -- "--gpus-per-node" "$work/mask.sbatch"; then fail "a CPU-node script asks for GPUs"; fi

job=$(sbatch --parsable "$work/mask.sbatch")
echo "submitted job array $job"
show() { echo "--- squeue"; squeue; for f in "$work"/sweep/slurm-*.out; do echo "--- $f"; cat "$f"; done; }
for _ in $(seq 1 300); do
  [[ -z $(squeue -h -j "$job" 2>/dev/null) ]] && break
  sleep 1
done
[[ -z $(squeue -h -j "$job" 2>/dev/null) ]] || { show; fail "job array $job still queued or running after 300 s"; }
for task in 0 1; do
  state=$(scontrol show job "${job}_$task" | grep -oE 'JobState=[A-Z_]+' | cut -d= -f2)
  [[ $state == COMPLETED ]] || { show; fail "array task $task ended $state"; }
done

"${sweep[@]}" --summary-only | tee "$work/summary.log"
grep -q "2 completed" "$work/summary.log" || { show; fail "the summary does not report 2 completed runs"; }
grep -c "| completed |" "$work/sweep/summary.md" | grep -qx 2 || { cat "$work/sweep/summary.md"; fail "summary.md lacks 2 completed rows"; }
cat "$work/sweep/summary.md"
echo PASS
