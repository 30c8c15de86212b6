#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages ankh needs, and only those that are missing, so that a
# second run is instant. Used by scripts/test.sh and scripts/demo.sh; safe to run by hand.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-openmp          # LibTorch (CPU) and a fast BLAS for it (~14x the reference one)
  libopenmpi-dev openmpi-bin                # MPI: launching and the CPU communicator
  libhdf5-dev zlib1g-dev                    # dataset shards, gzip FASTA
  libyaml-cpp-dev libspdlog-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev
  python3 python3-numpy python3-h5py python3-matplotlib   # file checks, plots
  ncbi-blast+ metastudent-data seqtk        # real proteins for benchmarks and the demo
  slurmctld slurmd slurm-client munge       # a one-node Slurm for the launcher tests (tests/slurm/)
  shellcheck
  clang                                     # libFuzzer and its sanitizers: the fuzz targets (scripts/fuzz.sh)
)

missing=()
for p in "${packages[@]}"; do
  [[ $p == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
