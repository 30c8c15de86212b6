#!/usr/bin/env bash
# On a CUDA machine with PyTorch and transformers: ankh's model training step (forward + backward,
# bf16) for ankh-base and ankh-large next to transformers' T5ForConditionalGeneration in the same
# run, plus the bf16 matmul ceiling. Compiles only trainer/model against that PyTorch's LibTorch.
#   scripts/bench/gpu_vs_hf.sh WORK_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(realpath -m "${1:?usage: gpu_vs_hf.sh WORK_DIR}")
mkdir -p "$out/obj" "$out/generated/ankh"
torch=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
abi=$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
cuda_inc=$(dirname "$(dirname "$(command -v nvcc)")")/include
printf '#pragma once\n#define ANKH_VERSION "gpu-bench"\n#define ANKH_WITH_NCCL 0\n#define ANKH_TORCH_CUDA 1\n' >"$out/generated/ankh/build_config.h"
cxx="g++ -std=c++17 -O2 -D_GLIBCXX_USE_CXX11_ABI=$abi -I. -I$out/generated -isystem $torch/include -isystem $torch/include/torch/csrc/api/include -isystem $cuda_inc"
printf "%s\n" trainer/model/*.cpp core/error.cpp core/strings.cpp tests/gpu/model_gpu_bench.cpp |
  xargs -P "$(nproc)" -I{} sh -c "$cxx -c {} -o $out/obj/\$(echo {} | tr / _).o"
g++ -o "$out/bench" "$out"/obj/*.o -L"$torch/lib" -Wl,-rpath,"$torch/lib" -Wl,--no-as-needed -ltorch_cuda -lc10_cuda \
  -Wl,--as-needed -ltorch -ltorch_cpu -lc10 -lpthread
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,power.draw --format=csv,noheader
echo "== ankh (trainer/model/throughput.h)"
"$out/bench" --quick
echo "== transformers"
python3 scripts/bench/hf_t5_baseline.py
