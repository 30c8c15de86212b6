#!/usr/bin/env bash
# expect.sh EXPECTED_EXIT REGEX COMMAND [ARGS...]
# Runs COMMAND; passes when its exit status matches EXPECTED_EXIT (a number, or "nonzero") and
# its combined output matches the extended regular expression REGEX ("" to skip that check).
set -uo pipefail
expected=$1 regex=$2; shift 2
output=$("$@" 2>&1); status=$?
printf '%s\n' "$output"
if [[ $expected == nonzero ]]; then
  (( status != 0 )) || { echo "expect.sh: expected a non-zero exit status, got 0" >&2; exit 1; }
elif (( status != expected )); then
  echo "expect.sh: expected exit status $expected, got $status" >&2; exit 1
fi
if [[ -n $regex ]] && ! grep -Eq -- "$regex" <<<"$output"; then
  echo "expect.sh: output does not match /$regex/" >&2; exit 1
fi
exit 0
