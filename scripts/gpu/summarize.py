#!/usr/bin/env python3
"""Writes OUT/summary.json from what scripts/gpu/check.sh left in OUT (standard library only).

    summarize.py OUT [--dry-run 0|1]

ankh-base / ankh-large: the median tokens/s, MFU (against the dense bf16 peak that `ankh train`
logs against) and memory of the `train` records after the first logged window (start-up,
allocator and autotuning) and before a resume; hf_fastest_tokens_per_s: the fastest transformers
implementation that ran, per model; ankh_over_hf: the ratio of the two; bench_model: the rows of
`ankh bench model --variant` (forward + backward alone) from bench-model.md."""
import json
import statistics
import subprocess
import sys
from pathlib import Path

PEAK_TFLOPS = 989  # H100/H200 SXM dense bf16, as trainer/parallel/device_peaks.cpp


def train_records(path):
    """The `train` records of the file's first run (a resume starts with another `start` record),
    without its first one."""
    if not path.exists():
        return []
    first_run = []
    starts = 0
    for line in path.read_text().splitlines():
        record = json.loads(line) if line.strip() else {}
        starts += record.get("event") == "start"
        if starts > 1:
            break
        if record.get("event") == "train":
            first_run.append(record)
    return first_run[1:]


def model_summary(path):
    records = train_records(path)
    if not records:
        return None
    return {
        "tokens_per_s": statistics.median(r["tokens_per_s"] for r in records),
        "mfu": statistics.median(r["mfu"] for r in records),
        "step_time_s": statistics.median(r["step_time_s"] for r in records),
        "memory_bytes": max(r["memory_bytes"] for r in records),
        "records": len(records),
        "steps": [r["step"] for r in records],
    }


SI = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}


def si_value(text):
    """'34.46 k' -> 34460.0 (core::format_si's form)."""
    number, _, prefix = text.strip().partition(" ")
    return float(number) * SI[prefix.strip()]


def percent(text):
    """'13.2 %' -> 0.132; None for the 'n/a (...)' of a share above its reference."""
    return float(text.rstrip(" %")) / 100 if text.endswith("%") else None


def bench_rows(path):
    """The variant rows of `ankh bench model`'s tables: config, variant, batch, tokens/s, MFU,
    ratio to the first variant and peak memory; a row that did not fit has tokens_per_s None."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) not in (10, 13) or not cells[0].startswith("configs/"):
            continue
        config, variant, _, shape, tokens, ratio, _, mfu, _, memory = cells[:10]
        fitted = tokens != "out of device memory"
        row = {
            "config": config,
            "variant": variant,
            "batch": int(shape.split(" x ")[0]),
            "tokens_per_s": si_value(tokens) if fitted else None,
            "mfu": percent(mfu) if fitted else None,
            "vs_first_variant": float(ratio.rstrip("x")) if ratio else None,
            "memory": memory,
        }
        if len(cells) == 13:  # --optimizer: the step with clipping and the optimizer
            full, full_mfu, optimizer_ms = cells[10:]
            fitted = full != "out of device memory"
            row["with_optimizer"] = {
                "tokens_per_s": si_value(full) if fitted else None,
                "mfu": percent(full_mfu) if fitted else None,
                "optimizer_ms_per_step": float(optimizer_ms) if fitted else None,
            }
        rows.append(row)
    return rows


def device_name(dry):
    if dry:
        return "cpu (check.sh --cpu-dry-run)"
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                              text=True, check=True).stdout.strip().splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def main():
    out = Path(sys.argv[1])
    dry = len(sys.argv) > 3 and sys.argv[2] == "--dry-run" and sys.argv[3] == "1"
    summary = {"device": device_name(dry), "peak_tflops": PEAK_TFLOPS}
    summary["ankh-base"] = model_summary(out / "metrics-base.jsonl")
    summary["ankh-large"] = model_summary(out / "metrics-large.jsonl")
    hf = json.loads((out / "hf.json").read_text()) if (out / "hf.json").exists() else {}
    fastest = {}
    for model, impls in hf.items():
        ran = {k: v for k, v in impls.items() if v}
        if ran:
            best = max(ran, key=ran.get)
            fastest[model] = {"implementation": best, "tokens_per_s": ran[best]}
    summary["hf_fastest_tokens_per_s"] = {m: f["tokens_per_s"] for m, f in fastest.items()}
    summary["hf_fastest_implementation"] = {m: f["implementation"] for m, f in fastest.items()}
    summary["ankh_over_hf"] = {m: summary[m]["tokens_per_s"] / f["tokens_per_s"]
                               for m, f in fastest.items() if summary.get(m)}
    summary["bench_model"] = bench_rows(out / "bench-model.md")
    phases = out / "phases.tsv"
    if phases.exists():
        rows = [line.split("\t") for line in phases.read_text().splitlines()[1:] if line]
        summary["phases"] = {r[0]: r[1] for r in rows}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    for model in ("ankh-base", "ankh-large"):
        s = summary[model]
        if s:
            line = f"{model}: {s['tokens_per_s'] / 1e3:.1f} k tokens/s, MFU {100 * s['mfu']:.1f} % of {PEAK_TFLOPS} TFLOP/s"
            if model in fastest:
                f = fastest[model]
                line += (f"; transformers {f['implementation']} {f['tokens_per_s'] / 1e3:.1f} k tokens/s "
                         f"(ankh {summary['ankh_over_hf'][model]:.2f}x)")
            print(line)
    print(f"wrote {out / 'summary.json'}")


if __name__ == "__main__":
    main()
