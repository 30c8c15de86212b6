#!/usr/bin/env bash
# Prints the path of the ankh binary: the one definition of where it is, used by the launchers,
# the Slurm scripts `ankh sweep --emit-slurm` writes, and scripts/demo.sh.
#
#   1. $ANKH_BIN, when set (another build, an installed copy);
#   2. build/release/bin/ankh of this checkout: what scripts/build.sh (preset release) builds;
#   3. ankh in PATH.
#
# Exits 2 with what to do when none is there.
set -euo pipefail

checkout=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -n ${ANKH_BIN:-} ]]; then
  [[ -x $ANKH_BIN && -f $ANKH_BIN ]] || { echo "find-ankh: ANKH_BIN='$ANKH_BIN' is not an executable file" >&2; exit 2; }
  echo "$ANKH_BIN"
elif [[ -x $checkout/build/release/bin/ankh ]]; then
  echo "$checkout/build/release/bin/ankh"
elif command -v ankh >/dev/null 2>&1; then
  command -v ankh
else
  echo "find-ankh: no ankh binary: build it with scripts/build.sh (it goes to $checkout/build/release/bin/ankh)," \
    "or set ANKH_BIN to one" >&2
  exit 2
fi
