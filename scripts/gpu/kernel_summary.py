#!/usr/bin/env python3
"""Where GPU time goes, from Nsight Compute's CSV (standard library only).

    kernel_summary.py NCU.csv [--top N]

NCU.csv: the stdout of `ncu --metrics gpu__time_duration.sum --csv ... PROGRAM`, one row per
kernel launch (the program's own output and ncu's ==PROF== lines around it are skipped). Prints
Markdown: the kernels' total time and count, the share of each kind (matrix products, softmax,
reductions, element-wise, copies, other; by the kernel's name), and the N kernels with the most
total time. Exits 1 when the file holds no kernel rows."""
import argparse
import csv
import sys
from collections import defaultdict

UNIT_NS = {"nsecond": 1.0, "ns": 1.0, "usecond": 1e3, "us": 1e3, "msecond": 1e6, "ms": 1e6, "second": 1e9, "s": 1e9}

# First match wins: a fused softmax inside a GEMM library would count as a GEMM.
KINDS = [
    ("matrix products", ("gemm", "cutlass", "xmma", "nvjet", "cublas", "wgmma", "sm90_")),
    ("softmax", ("softmax",)),
    ("reductions", ("reduce", "norm_kernel", "welford")),
    ("copies and concatenation", ("copy", "catarray", "cat_", "transpose", "direct_copy")),
    ("element-wise", ("elementwise", "vectorized", "unrolled", "pointwise", "fill", "gelu")),
]


def kind_of(name):
    lower = name.lower()
    for kind, needles in KINDS:
        if any(n in lower for n in needles):
            return kind
    return "other"


def launches(path):
    """(kernel name, duration in ns) per launch."""
    header = None
    with open(path, newline="", errors="replace") as f:
        for row in csv.reader(f):
            if header is None:
                if "Kernel Name" in row and "Metric Value" in row:
                    header = {name: i for i, name in enumerate(row)}
                continue
            if len(row) < len(header) or row[header["Metric Name"]] != "gpu__time_duration.sum":
                continue
            unit = row[header["Metric Unit"]].strip()
            if unit not in UNIT_NS:
                raise SystemExit(f"{path}: unknown time unit '{unit}' in row {row[:1]}")
            value = float(row[header["Metric Value"]].replace(",", ""))
            yield row[header["Kernel Name"]], value * UNIT_NS[unit]


def short(name, width=90):
    """The kernel's qualified name without template arguments and parameter list: C++ templates
    make names unreadable, and the function name is enough to tell kernels apart."""
    out, depth = [], 0
    for ch in name:
        depth += ch == "<"
        if depth == 0:
            out.append(ch)
        depth -= ch == ">" and depth > 0
    cut = "".join(out).strip()
    if cut.endswith(")"):  # the parameter list: from its matching "(" on
        depth = 0
        for i in range(len(cut) - 1, -1, -1):
            depth += (cut[i] == ")") - (cut[i] == "(")
            if depth == 0:
                cut = cut[:i].rstrip()
                break
    return cut if len(cut) <= width else cut[: width - 1] + "…"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()

    per_name = defaultdict(lambda: [0, 0.0])
    for name, ns in launches(args.csv):
        per_name[name][0] += 1
        per_name[name][1] += ns
    if not per_name:
        print(f"{args.csv}: no kernel rows with gpu__time_duration.sum", file=sys.stderr)
        return 1
    total_ns = sum(t for _, t in per_name.values())
    count = sum(c for c, _ in per_name.values())
    print(f"{count} kernel launches, {total_ns / 1e6:.2f} ms of kernel time, "
          f"mean {total_ns / count / 1e3:.1f} µs per launch\n")

    per_kind = defaultdict(lambda: [0, 0.0])
    for name, (c, t) in per_name.items():
        per_kind[kind_of(name)][0] += c
        per_kind[kind_of(name)][1] += t
    print("| kind | launches | ms | share |\n|---|---|---|---|")
    for kind, (c, t) in sorted(per_kind.items(), key=lambda kv: -kv[1][1]):
        print(f"| {kind} | {c} | {t / 1e6:.2f} | {100 * t / total_ns:.1f} % |")

    print(f"\n| kernel (top {args.top} by total time) | kind | launches | ms | mean µs | share |\n|---|---|---|---|---|---|")
    ranked = sorted(per_name.items(), key=lambda kv: -kv[1][1])[: args.top]
    for name, (c, t) in ranked:
        print(f"| `{short(name)}` | {kind_of(name)} | {c} | {t / 1e6:.2f} | {t / c / 1e3:.1f} | {100 * t / total_ns:.1f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
