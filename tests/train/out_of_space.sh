#!/usr/bin/env bash
# out_of_space.sh: a full disk, for real, on a small tmpfs this test mounts (and unmounts on
# exit). A 2-rank run whose second checkpoint does not fit stops with an error that says how much
# space the save needed and how much there was; no step-N.tmp is left, the first checkpoint stays
# committed, and once there is room the run resumes from it and ends exactly like a run that never
# ran out of space. With the background writer off, the same. `ankh preprocess`, `ankh export`
# and `ankh embed` on a full disk fail and leave nothing under their output's final name.
# Skipped (exit 77) without root or where the mount fails.
source "$(dirname "$0")/common.sh"
(( EUID == 0 )) || { echo "SKIP: mounting a tmpfs needs root"; exit 77; }
mnt=$work/mnt
mkdir -p "$mnt"
mount -t tmpfs -o size=64k ankh-test "$mnt" 2>"$work/mount.err" || { echo "SKIP: cannot mount a tmpfs: $(cat "$work/mount.err")"; exit 77; }
trap 'umount "$mnt" || umount -l "$mnt"; rm -rf "$work"' EXIT
make_dataset
common=(train.max_steps=15 train.global_batch=8 train.micro_batch=4 checkpoint.every_steps=5 checkpoint.keep_last=1)

# The size of one checkpoint, from a run with room (also the reference for the resumed run).
train 2 "$work/full" "${common[@]}" >"$work/full.log" 2>&1
bytes=$(du -sb "$(checkpoint "$work/full" 15)" | cut -f1)
# Room for the run and one checkpoint, not two: the save of step 10 runs out (step 5 is deleted
# only after step 10 commits).
size_k=$(( (bytes * 3 / 2 + 65536) / 1024 ))
mount -o remount,size=${size_k}k "$mnt"
echo "one checkpoint: $bytes bytes; tmpfs: $size_k KiB"

# full_save RUN [overrides...]: the run fails at the save of step 10, cleanly.
full_save() {
  local run=$1; shift
  local status=0
  timeout -k 5 300 "$run_mpi" 2 "$ANKH_BINARY" train "$ANKH_SOURCE_DIR/configs/ankh-tiny.yaml" "data.dataset=$work/dataset" \
    "run.dir=$run" "${tiny[@]}" "${common[@]}" "$@" >"$work/full-disk.log" 2>&1 || status=$?
  cat "$work/full-disk.log"
  (( status != 0 && status != 124 )) || fail "the run did not fail on the full disk (exit status $status)"
  grep -qE "saving checkpoint step-00000010 failed: .*No space left on device; the checkpoint needs about [0-9.]+ [KM]iB and the file system of $run/checkpoints has [0-9.]+ [KM]?i?B free" \
    "$work/full-disk.log" || fail "the error does not say what the save needed"
  grep -q "hint: free at least" "$work/full-disk.log" || fail "the hint does not say how much to free"
  if grep -q "internal error" "$work/full-disk.log"; then fail "an internal error"; fi
  [[ ! -e $(checkpoint "$run" 10).tmp && ! -e $(checkpoint "$run" 10) ]] || { ls -la "$run/checkpoints"; fail "step 10 left behind"; }
  [[ -f $(checkpoint "$run" 5)/COMMITTED ]] || fail "the step-5 checkpoint is gone"
}
full_save "$mnt/run"
mount -o remount,size=$(( size_k * 4 ))k "$mnt"
train 2 "$mnt/run" "${common[@]}" >"$work/resume.log" 2>&1 || { cat "$work/resume.log"; fail "resume after freeing space"; }
grep -q "resumed from .*step-00000005 (step 5" "$work/resume.log" || fail "did not resume from step 5"
"$ANKH_COMPARE" losses "$work/full" "$mnt/run" --rtol 0
"$ANKH_COMPARE" params "$(checkpoint "$work/full" 15)" "$(checkpoint "$mnt/run" 15)" --rtol 0
rm -rf "${mnt:?}/run"

mount -o remount,size=${size_k}k "$mnt"
full_save "$mnt/foreground" checkpoint.background=false
rm -rf "${mnt:?}/foreground"

# The other writers, on a disk with almost no room: nothing under the final name.
mount -o remount,size=16k "$mnt"
head -c 12k /dev/zero >"$mnt/filler"  # what is left is less than any of the outputs needs
no_space() {  # no_space NAME COMMAND...: fails, with the cause in its error
  local name=$1 status=0; shift
  "$@" >"$work/$name.log" 2>&1 || status=$?
  cat "$work/$name.log"
  (( status == 1 )) || fail "$name: exit status $status on a full disk"
  grep -qiE "no space left|disk full|disk is full" "$work/$name.log" || fail "$name: the error does not say the disk is full"
  if grep -q "internal error" "$work/$name.log"; then fail "$name: an internal error"; fi
}
no_space preprocess "$ANKH_BINARY" preprocess --input "$work/proteins.fasta" --output "$mnt/dataset" --no-progress
[[ ! -e $mnt/dataset/manifest.yaml ]] && ! compgen -G "$mnt/dataset/*.h5" >/dev/null || { ls -laR "$mnt"; fail "preprocess left a dataset file"; }
no_space export "$ANKH_BINARY" export "$(checkpoint "$work/full" 15)" --output "$mnt/export"
[[ ! -e $mnt/export ]] || { ls -laR "$mnt"; fail "export left its directory"; }
no_space embed "$ANKH_BINARY" embed "$(checkpoint "$work/full" 15)" --fasta "$work/proteins.fasta" --output "$mnt/embeddings.h5" \
  --per-residue --no-progress
[[ ! -e $mnt/embeddings.h5 ]] || { ls -la "$mnt"; fail "embed left embeddings.h5"; }
ls -la "$mnt"
echo PASS
