#!/usr/bin/env bash
# scripts/gpu/kernel_summary.py on an Nsight Compute CSV of the shape `ncu --csv` writes (the
# program's output and ==PROF== lines around the rows, quoted values with thousands separators):
# per-kernel totals, kinds and shares are right, and a file without kernel rows is an error.
set -euo pipefail
work=$(mktemp -d "${TMPDIR:-/tmp}/ankh-kernel-summary.XXXXXX")
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3
cat >"$work/ncu.csv" <<'CSV'
==PROF== Connected to process 123 (/x/ankh)
device cuda:0, 16 threads; 1024^3 BFloat16 matmul: 400 T FLOP/s
"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size","Grid Size","Device","CC","Section Name","Metric Name","Metric Unit","Metric Value"
"0","123","ankh","127.0.0.1","void cutlass::Kernel2<cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x64_32x6_tn_align8>(T1::Params)","1","7","(128, 1, 1)","(96, 1, 1)","0","9.0","Command line profiler metrics","gpu__time_duration.sum","usecond","1,500.00"
"1","123","ankh","127.0.0.1","void at::native::(anonymous namespace)::cunn_SoftMaxForward<8, c10::BFloat16, float, c10::BFloat16>(T4 *, const T2 *, int)","1","7","(128, 1, 1)","(96, 1, 1)","0","9.0","Command line profiler metrics","gpu__time_duration.sum","usecond","250.00"
"2","123","ankh","127.0.0.1","void at::native::vectorized_elementwise_kernel<4, at::native::AddFunctor<float>, std::array<char *, 3>>(int, T2, T3)","1","7","(128, 1, 1)","(96, 1, 1)","0","9.0","Command line profiler metrics","gpu__time_duration.sum","nsecond","200,000"
"3","123","ankh","127.0.0.1","void cutlass::Kernel2<cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x64_32x6_tn_align8>(T1::Params)","1","7","(128, 1, 1)","(96, 1, 1)","0","9.0","Command line profiler metrics","gpu__time_duration.sum","msecond","1.5"
"4","123","ankh","127.0.0.1","my_kernel(float *)","1","7","(128, 1, 1)","(96, 1, 1)","0","9.0","Command line profiler metrics","gpu__time_duration.sum","usecond","50"
==PROF== Disconnected from process 123
CSV
out=$($py scripts/gpu/kernel_summary.py "$work/ncu.csv" --top 3)
printf '%s\n' "$out"
# 1500 + 250 + 200 + 1500 + 50 µs = 3.5 ms over 5 launches; GEMMs 3.0 ms = 85.7 %.
grep -q "^5 kernel launches, 3.50 ms of kernel time, mean 700.0 µs per launch" <<<"$out"
grep -q "^| matrix products | 2 | 3.00 | 85.7 % |" <<<"$out"
grep -q "^| softmax | 1 | 0.25 | 7.1 % |" <<<"$out"
grep -q "^| element-wise | 1 | 0.20 | 5.7 % |" <<<"$out"
grep -q "^| other | 1 | 0.05 | 1.4 % |" <<<"$out"
grep -q "^| \`void cutlass::Kernel2\` | matrix products | 2 | 3.00 | 1500.0 | 85.7 % |" <<<"$out"
grep -q '^| `void at::native::(anonymous namespace)::cunn_SoftMaxForward` | softmax |' <<<"$out"
(( $(grep -c '^| `' <<<"$out") == 3 ))  # --top 3
# No kernel rows (ncu failed before the first kernel): an error, not an empty table.
head -2 "$work/ncu.csv" >"$work/empty.csv"
if $py scripts/gpu/kernel_summary.py "$work/empty.csv" 2>"$work/err"; then echo "FAIL: no rows passed"; exit 1; fi
grep -q "no kernel rows" "$work/err"
echo PASS
