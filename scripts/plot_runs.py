#!/usr/bin/python3
"""Plot validation and training loss against tokens seen for several ankh runs.

    scripts/plot_runs.py [--output DIR] [--title TEXT] RUN_DIR [RUN_DIR ...]
    scripts/plot_runs.py SWEEP_DIR            # every SWEEP_DIR/*/metrics.jsonl

Reads RUN_DIR/metrics.jsonl (the trainer's JSON lines) and writes DIR/valid_loss.png and
DIR/train_loss.png (DIR defaults to the sweep directory, or the current one), and for runs that
probe while training (train.probes) DIR/probe_TASK.png (Fmax, or accuracy, against tokens),
printing "wrote PATH" for each. Headless (Agg). Uses Debian's python3-matplotlib: hence /usr/bin/python3,
not whatever python3 comes first in PATH. Exit status 3 when matplotlib is missing.
"""
import argparse
import json
import os
import sys


def read_curves(run_dir):
    """{"train": [(tokens, loss)], "valid": [(tokens, loss)]}, later records of a step winning
    (a resumed run re-logs the steps after its checkpoint)."""
    curves = {"train": {}, "valid": {}}
    probes = {}  # task -> {step: (tokens, metric name, value)}
    path = os.path.join(run_dir, "metrics.jsonl")
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                print(f"plot_runs: {path}:{number}: not JSON, skipped", file=sys.stderr)
                continue
            kind = record.get("event")
            if kind in curves and "loss" in record and "tokens" in record:
                curves[kind][record.get("step", len(curves[kind]))] = (record["tokens"], record["loss"])
            if kind == "probe" and "task" in record:
                metric = "fmax" if record.get("fmax") is not None else "accuracy"
                if record.get(metric) is not None:
                    probes.setdefault(record["task"], {})[record.get("step", 0)] = (
                        record.get("tokens", 0), metric, record[metric])
    out = {k: [v[s] for s in sorted(v)] for k, v in curves.items()}
    out["probes"] = {task: [points[s] for s in sorted(points)] for task, points in probes.items()}
    return out


def save(fig, plt, path):
    tmp = path + ".tmp.png"  # written whole, then renamed: never a half-written PNG
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
    print(f"wrote {path}")


def plot_probes(plt, curves, output, title):
    """One PNG per probe task: its headline metric against tokens, one line per run."""
    tasks = sorted({task for c in curves.values() for task in c["probes"]})
    for task in tasks:
        fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
        metric = "metric"
        for name, c in curves.items():
            points = c["probes"].get(task)
            if not points:
                continue
            metric = points[0][1]
            ax.plot([p[0] for p in points], [p[2] for p in points], marker="o", markersize=3, label=name)
        ax.set_xlabel("encoder tokens seen")
        ax.set_ylabel(f"{task} {metric}")
        ax.set_title(f"{title + ': ' if title else ''}probe {task}: {metric} vs tokens")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        save(fig, plt, os.path.join(output, f"probe_{task}.png"))


def find_runs(paths):
    runs = []
    for p in paths:
        if os.path.isfile(os.path.join(p, "metrics.jsonl")):
            runs.append(p)
            continue
        children = sorted(os.path.join(p, d) for d in os.listdir(p)) if os.path.isdir(p) else []
        found = [c for c in children if os.path.isfile(os.path.join(c, "metrics.jsonl"))]
        if not found:
            print(f"plot_runs: {p}: no metrics.jsonl in it or its subdirectories", file=sys.stderr)
            sys.exit(2)
        runs.extend(found)
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="run directories, or a sweep directory")
    parser.add_argument("--output", help="directory for the PNGs")
    parser.add_argument("--title", default="", help="plot title prefix")
    args = parser.parse_args()

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot_runs: error: matplotlib is missing (Debian: apt-get install python3-matplotlib; "
              "run this with /usr/bin/python3)", file=sys.stderr)
        return 3

    runs = find_runs(args.runs)
    output = args.output or (args.runs[0] if len(args.runs) == 1 and os.path.isdir(args.runs[0])
                             and runs != [args.runs[0]] else ".")
    os.makedirs(output, exist_ok=True)
    curves = {os.path.basename(os.path.normpath(r)): read_curves(r) for r in runs}

    for kind, label in (("valid", "validation loss"), ("train", "training loss")):
        fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
        plotted = 0
        for name, c in curves.items():
            points = c[kind]
            if not points:
                continue
            tokens, losses = zip(*points)
            ax.plot(tokens, losses, marker="o" if kind == "valid" else None, markersize=3, label=name)
            plotted += 1
        ax.set_xlabel("encoder tokens seen")
        ax.set_ylabel(label)
        ax.set_title(f"{args.title + ': ' if args.title else ''}{label} vs tokens")
        ax.grid(True, alpha=0.3)
        if plotted:
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, f"no {kind} records yet", ha="center", va="center", transform=ax.transAxes)
        fig.tight_layout()
        save(fig, plt, os.path.join(output, f"{kind}_loss.png"))
    plot_probes(plt, curves, output, args.title)
    return 0


if __name__ == "__main__":
    sys.exit(main())
