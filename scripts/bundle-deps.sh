#!/usr/bin/env bash
# Makes the dependency bundle for building ankh on a host without package access (a GPU node):
# the Debian .deb files of ankh's build and runtime dependencies other than LibTorch and CUDA,
# unpacked into a prefix. Run it where apt works; copy the bundle directory to the other host.
#
#   scripts/bundle-deps.sh [BUNDLE_DIR]      (default: .bundle, ignored by git)
#
# Result: BUNDLE_DIR/debs/*.deb and BUNDLE_DIR/prefix/usr/... (dpkg -x, never into /).
# Only debs/ needs copying (16 MiB): scripts/build-cuda.sh unpacks it there when prefix/ is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=$(realpath -m "${1:-.bundle}")

# Headers, CMake packages and libraries we build against.
dev_packages=(
  libyaml-cpp-dev libyaml-cpp0.7
  libspdlog-dev libspdlog1.10 libfmt-dev libfmt9
  libcli11-dev nlohmann-json3-dev
  libhdf5-dev libhdf5-103-1 libhdf5-hl-100 libhdf5-cpp-103-1 libhdf5-hl-cpp-100 libsz2 libaec0 libaec-dev
  zlib1g-dev
  libgtest-dev libgmock-dev
  libopenmpi-dev libopenmpi3 openmpi-bin openmpi-common
)
# Shared libraries those need at run time that a minimal host may lack. Only the ones the host
# does not have are put on the library path (scripts/build-cuda.sh decides that there).
runtime_packages=(
  libpmix2 libhwloc15 libevent-core-2.1-7 libevent-pthreads-2.1-7 libevent-2.1-7 libfabric1 libucx0
  libibverbs1 librdmacm1 libpsm2-2 libpsm-infinipath1 libnl-3-200 libnl-route-3-200 libnuma1
  libltdl7 libmunge2 libcurl4 libssh2-1 librtmp1 libnghttp2-14 libpsl5 libldap-2.5-0 libsasl2-2
  libbrotli1 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libkeyutils1
)

mkdir -p "$bundle/debs"
(
  cd "$bundle/debs"
  missing=()
  for p in "${dev_packages[@]}" "${runtime_packages[@]}"; do
    compgen -G "${p}_*.deb" >/dev/null || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "bundle-deps: downloading ${#missing[@]} packages" >&2
    apt-get download "${missing[@]}" >/dev/null
  fi
)

scripts/unpack-bundle.sh "$bundle"
du -sh "$bundle/debs" "$bundle/prefix" >&2
echo "$bundle"
