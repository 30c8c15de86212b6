# Shared by the command-line scripts (tests/cli/*.sh) that run the real binary in a scratch
# directory. Sourced, not run: sets `work` (removed on exit), cd's into it, defines fail and
# expect_failure. $1 of the sourcing script is the name of the scratch directory.
set -euo pipefail
work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_failure REGEX OUTPUT_PATH COMMAND...: non-zero exit, REGEX in the output, OUTPUT_PATH absent.
expect_failure() {
  local regex=$1 out=$2; shift 2
  local log status=0
  log=$("$@" 2>&1) || status=$?
  printf '%s\n' "$log"
  (( status != 0 )) || fail "expected a non-zero exit: $*"
  grep -Eq -- "$regex" <<<"$log" || fail "output does not match /$regex/: $*"
  compgen -G "$out*" >/dev/null && fail "$out (or a temporary of it) exists after a failure: $(ls -d "$out"*)"
  return 0
}
