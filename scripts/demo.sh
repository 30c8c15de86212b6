#!/usr/bin/env bash
# The main job, end to end on this machine: set up, build, and show the command line.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build_dir=$(scripts/build.sh release | tail -n 1)
ankh=$build_dir/trainer/ankh
"$ankh" --help
echo
echo "demo: ankh is built at $ankh"
