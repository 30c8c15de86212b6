#!/usr/bin/env bash
# The model's GPU evidence, in one go, on a CUDA machine with PyTorch and transformers installed
# (no package access needed): compiles trainer/model/ and its tests directly against that
# PyTorch's LibTorch (only core/error.cpp and core/strings.cpp besides; GoogleTest from the
# dependency bundle, scripts/bundle-deps.sh), writes Hugging Face reference outputs, runs the
# parity test, the GPU tests and the model's unit tests under LibTorch 2.x. With --bench it also
# times ankh-base and ankh-large (tests/gpu/model_gpu_bench.cpp, the code of `ankh bench model`).
#
#   tests/gpu/model_device_check.sh WORK_DIR [--bench]     (objects, test binaries, references)
set -uo pipefail
cd "$(dirname "$0")/../.."
out=$(realpath -m "${1:?usage: model_device_check.sh WORK_DIR [--bench]}")
bench=${2:-}
mkdir -p "$out/obj" "$out/generated/ankh"

torch=${TORCH_ROOT:-$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')}
abi=$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
cuda_inc=$(dirname "$(dirname "$(command -v nvcc)")")/include
[[ -d .bundle/prefix ]] || scripts/unpack-bundle.sh .bundle >/dev/null
gtest=.bundle/prefix/usr
printf '#pragma once\n#define ANKH_VERSION "model-check"\n#define ANKH_WITH_NCCL 0\n#define ANKH_TORCH_CUDA 1\n' \
  >"$out/generated/ankh/build_config.h"

cxx=(g++ -std=c++17 -O2 -D_GLIBCXX_USE_CXX11_ABI="$abi" -Wall -Wextra -Wpedantic -Wno-unused-parameter
     -I. -I"$out/generated" -isystem "$torch/include" -isystem "$torch/include/torch/csrc/api/include"
     -isystem "$cuda_inc" -isystem "$gtest/include")
sources=(trainer/model/*.cpp core/error.cpp core/strings.cpp tests/gpu/model_*_test.cpp tests/unit/model_*_test.cpp
         tests/gpu/model_gpu_bench.cpp)
echo "== compile ${#sources[@]} files against LibTorch $(python3 -c 'import torch; print(torch.__version__)')"
printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -I{} sh -c \
  'o='"$out"'/obj/$(echo {} | tr / _).o; '"${cxx[*]}"' -c {} -o $o 2>$o.log || { cat $o.log; exit 255; }' ||
  exit 1
lib_objs=$(ls "$out"/obj/trainer_model_*.o "$out"/obj/core_*.o)
link=(-L"$torch/lib" -Wl,-rpath,"$torch/lib" -Wl,--no-as-needed -ltorch_cuda -lc10_cuda -Wl,--as-needed
      -ltorch -ltorch_cpu -lc10 "$gtest/lib/x86_64-linux-gnu/libgtest_main.a"
      "$gtest/lib/x86_64-linux-gnu/libgtest.a" -lpthread)
for test_obj in "$out"/obj/tests_*_test.cpp.o "$out"/obj/tests_gpu_model_gpu_bench.cpp.o; do
  name=$(basename "$test_obj" .cpp.o)
  [[ -f $test_obj ]] || continue
  # shellcheck disable=SC2086
  g++ -o "$out/${name#tests_}" "$test_obj" $lib_objs "${link[@]}" || exit 1
done

status=0
echo "== Hugging Face reference"
python3 tests/gpu/model_hf_reference.py "$out/hf" || status=1
echo "== parity"
ANKH_HF_REFERENCE="$out/hf" "$out/gpu_model_hf_parity_test" || status=1
echo "== GPU tests"
"$out/gpu_model_cuda_test" || status=1
echo "== unit tests"
for t in "$out"/unit_model_*_test; do OMP_NUM_THREADS=1 "$t" --gtest_brief=1 || status=1; done

if [[ $bench == --bench ]]; then
  echo "== throughput (trainer/model/throughput.h, as ankh bench model --device cuda)"
  "$out/gpu_model_gpu_bench" || status=1
fi
exit $status
