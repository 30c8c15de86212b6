#!/usr/bin/env bash
# trainer/optim's GPU evidence, on a CUDA machine with PyTorch and transformers installed, without
# the dependency bundle: builds tests/gpu/optim_device_driver.cpp and trainer/optim against that
# PyTorch's LibTorch (2.x) with -Werror, checks parity with Hugging Face's Adafactor and
# torch.optim.AdamW on CUDA (tests/gpu/optim_hf_check.py), then times the optimizers on ankh-base
# and ankh-large parameters.
#
#   tests/gpu/optim_device_check.sh [WORK_DIR]      (default: /tmp/ankh-optim-check)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/tmp/ankh-optim-check}
mkdir -p "$work/obj"
torch_dir=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
abi=$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
python3 -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name())'

cuda=${CUDA_HOME:-/usr/local/cuda}
# What CMake would generate for a CUDA LibTorch with ankh's kernels (cmake/build_config.h.in).
mkdir -p "$work/generated/ankh"
printf '%s\n' '#pragma once' '#define ANKH_VERSION "optim-device-check"' '#define ANKH_WITH_NCCL 0' \
  '#define ANKH_TORCH_CUDA 1' '#define ANKH_HAVE_CUDA_KERNELS 1' > "$work/generated/ankh/build_config.h"
flags="-std=c++17 -O2 -Wall -Wextra -Wpedantic -Wshadow=local -Wno-unused-parameter -Werror -I. -I$work/generated
       -isystem $torch_dir/include -isystem $torch_dir/include/torch/csrc/api/include -isystem $cuda/include
       -D_GLIBCXX_USE_CXX11_ABI=$abi"
pids=()
for src in trainer/optim/{optimizer,state_util,adamw,adafactor,adafactor_fused,schedule,clip}.cpp core/error.cpp \
           tests/gpu/optim_device_driver.cpp; do
  g++ $flags -c "$src" -o "$work/obj/$(basename "$src" .cpp).o" & pids+=($!)
done
"$cuda/bin/nvcc" -std=c++17 -O3 -I. -gencode arch=compute_90a,code=sm_90a -gencode arch=compute_80,code=compute_80 \
  -c trainer/kernels/adafactor.cu -o "$work/obj/adafactor_kernels.o" & pids+=($!)
for pid in "${pids[@]}"; do wait "$pid"; done
g++ "$work"/obj/*.o -o "$work/optim_device_driver" -L"$torch_dir/lib" -L"$cuda/lib64" -Wl,--no-as-needed \
  -ltorch -ltorch_cuda -ltorch_cpu -lc10_cuda -lc10 -lcudart -Wl,-rpath,"$torch_dir/lib"

status=0
echo "== parity on CUDA"
python3 tests/gpu/optim_hf_check.py "$work/parity" "$work/optim_device_driver" || status=1
for preset in ankh-base ankh-large; do
  echo "== bench $preset"
  "$work/optim_device_driver" bench "$preset" || status=1
done
exit $status
