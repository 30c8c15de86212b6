#!/usr/bin/env bash
# Unpacks BUNDLE_DIR/debs/*.deb into BUNDLE_DIR/prefix with `dpkg -x` (never into /), and turns
# Debian's absolute symlinks into relative ones so the prefix works wherever it is copied.
#   scripts/unpack-bundle.sh BUNDLE_DIR
set -euo pipefail
bundle=$(realpath "$1")
prefix=$bundle/prefix
compgen -G "$bundle/debs/*.deb" >/dev/null || { echo "unpack-bundle: no .deb files in $bundle/debs (run scripts/bundle-deps.sh)" >&2; exit 1; }
rm -rf "$prefix.tmp"
mkdir -p "$prefix.tmp"
for deb in "$bundle"/debs/*.deb; do
  dpkg -x "$deb" "$prefix.tmp"
done
find "$prefix.tmp" -type l | while read -r link; do
  target=$(readlink "$link")
  if [[ $target == /* ]]; then
    ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$prefix.tmp$target")" "$link"
  fi
done
rm -rf "$prefix"
mv "$prefix.tmp" "$prefix"
