# Shared by the training scenario tests (tests/train/*.sh): a small generated protein dataset, a
# very small model, and `ankh train` under a real `mpirun` (tests/run_mpi.sh). Sourced, not run.
# Needs ANKH_BINARY, ANKH_COMPARE (ankh_compare_runs) and ANKH_SOURCE_DIR (set by CTest).
set -euo pipefail

: "${ANKH_BINARY:?set by CTest}" "${ANKH_COMPARE:?set by CTest}" "${ANKH_SOURCE_DIR:?set by CTest}"
run_mpi=$ANKH_SOURCE_DIR/tests/run_mpi.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/ankh-train-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
# On a failing command: which line, and the end of the newest log (runs log to $work/*.log).
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND" >&2; newest=$(ls -t "$work"/*.log 2>/dev/null | head -1); [[ -z $newest ]] || { echo "--- $newest" >&2; tail -40 "$newest" >&2; }' ERR

fail() { echo "FAIL: $*" >&2; exit 1; }

# 600 proteins of 20-180 residues from a fixed linear congruential generator (the same bytes on
# every machine), preprocessed with 5% held out for validation.
make_dataset() {
  "$ANKH_SOURCE_DIR/scripts/bench/fixed_proteins.sh" 600 20 180 12345 P "test protein" > "$work/proteins.fasta"
  "$ANKH_BINARY" preprocess --input "$work/proteins.fasta" --output "$work/dataset" --valid-fraction 0.05 >/dev/null
}

# A model small enough for 40 steps in seconds; every step logged; no time-based saves; a fixed
# FLOP peak (no matmul measured at start).
tiny=(model.d_model=32 model.num_heads=2 model.d_kv=16 model.d_ff=64 model.encoder_layers=2
      model.decoder_layers=1 model.relative_buckets=8 model.relative_max_distance=32 model.precision=fp32
      data.max_length=64 optim.warmup_steps=5 optim.lr=0.003 train.log_every=1 train.eval_every=0
      train.peak_flops=1e9 checkpoint.every_minutes=0)

# train NP RUN_DIR [overrides...]: `ankh train configs/ankh-tiny.yaml` on NP ranks.
train() {
  local np=$1 run=$2; shift 2
  "$run_mpi" "$np" "$ANKH_BINARY" train "$ANKH_SOURCE_DIR/configs/ankh-tiny.yaml" \
    "data.dataset=$work/dataset" "run.dir=$run" "${tiny[@]}" "$@"
}

# checkpoint RUN_DIR STEP: the path of that step's checkpoint directory.
checkpoint() { printf '%s/checkpoints/step-%08d' "$1" "$2"; }
