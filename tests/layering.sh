#!/usr/bin/env bash
# layering.sh: every source folder includes only the folders its library may use (the table in
# docs/architecture.md), and each library's CMake target links only those libraries. So the next
# change cannot tangle two concerns without changing this table on purpose.
set -euo pipefail
cd "${ANKH_SOURCE_DIR:-$(dirname "$0")/..}"

# folder -> folders its code may include (besides itself and ankh/build_config.h)
declare -A may_include=(
  [core]=""
  [data]="core"
  [checkpoints]="core"
  [trainer/metrics]="core"
  [trainer/kernels]=""
  [trainer/model]="core data trainer/kernels"
  [trainer/optim]="core trainer/kernels"
  [trainer/parallel]="core"
  [trainer/weights]="core data checkpoints trainer/metrics trainer/model"
  [trainer/probe]="core data checkpoints trainer/metrics trainer/model trainer/weights"
  [trainer/generation]="core data checkpoints trainer/model trainer/weights"
  [trainer]="core data checkpoints trainer/metrics trainer/kernels trainer/model trainer/optim trainer/parallel trainer/weights trainer/probe"
)
# folder -> its library and the ankh libraries it may link
declare -A library=(
  [core]=ankh_core [data]=ankh_data [checkpoints]=ankh_checkpoints [trainer/metrics]=ankh_metrics
  [trainer/kernels]=ankh_kernels [trainer/model]=ankh_model [trainer/optim]=ankh_optim [trainer/parallel]=ankh_parallel
  [trainer/weights]=ankh_weights [trainer/probe]=ankh_probe [trainer/generation]=ankh_generation [trainer]=ankh_trainer
)
declare -A lib_of_folder=(
  [core]=ankh_core [data]=ankh_data [checkpoints]=ankh_checkpoints [trainer/metrics]=ankh_metrics
  [trainer/kernels]=ankh_kernels [trainer/model]=ankh_model [trainer/optim]=ankh_optim [trainer/parallel]=ankh_parallel
  [trainer/weights]=ankh_weights
  [trainer/probe]=ankh_probe [trainer/generation]=ankh_generation
)

status=0
for folder in "${!may_include[@]}"; do
  if [[ $folder == trainer ]]; then files=(trainer/*.cpp trainer/*.h)
  else mapfile -t files < <(find "$folder" -name '*.cpp' -o -name '*.h' -o -name '*.cu')
  fi
  allowed=" $folder ${may_include[$folder]} ankh "
  while IFS=: read -r file line include; do
    # The folder an include belongs to: trainer/<sub>/ for trainer's libraries, else the top folder.
    target=$(sed -E 's#^(trainer/[a-z_]+)/.*#\1#;t;s#^trainer/[a-z_]+\.h$#trainer#;t;s#^([a-z_]+)/.*#\1#' <<<"$include")
    if [[ $allowed != *" $target "* ]]; then
      echo "FAIL: $file:$line includes \"$include\": $folder may include only: ${may_include[$folder]:-(nothing)}"
      status=1
    fi
  done < <(grep -nHoE '^#include "[^"]+"' "${files[@]}" | sed -E 's/#include "(.*)"/\1/')

  cmake=$folder/CMakeLists.txt
  links=$(sed -n "/target_link_libraries(${library[$folder]}\$/,/)/p" "$cmake" | grep -oE 'ankh_[a-z]+' | grep -vE "^(${library[$folder]}|ankh_warnings|ankh_headers|ankh_nccl)$" | sort -u || true)
  for lib in $links; do
    ok=0
    for dep in ${may_include[$folder]}; do [[ ${lib_of_folder[$dep]} == "$lib" ]] && ok=1; done
    ((ok)) || { echo "FAIL: $cmake: ${library[$folder]} links $lib, which $folder may not use"; status=1; }
  done
done
# The front ends depend on everything; nothing outside them includes them.
if grep -rnE '^#include "trainer/app/' core data checkpoints trainer --include=*.cpp --include=*.h | grep -v '^trainer/app/'; then
  echo "FAIL: the lines above include the front ends (trainer/app/) from below them"
  status=1
fi
((status == 0)) && echo "PASS: every folder includes and links only what docs/architecture.md allows"
exit "$status"
