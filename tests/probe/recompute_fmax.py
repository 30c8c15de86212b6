#!/usr/bin/env python3
"""CAFA's protein-centric Fmax recomputed from what `ankh probe` writes, without ankh.

Usage: recompute_fmax.py PREDICTIONS.tsv QUERIES.txt ANNOTATIONS GO_GRAPH

Prints {"fmax", "threshold", "precision", "recall", "coverage", "queries"} as JSON, following
docs/probes.md: annotations and predicted scores propagated over is_a/part_of edges (a term's
ancestors take the best score below them), the three roots left out of truth and predictions,
thresholds t = i/100 (as float32, the scores' type), precision averaged over the queries with a
prediction at t, recall over the annotated queries, the lowest t on a tie. Standard library only.
"""
import json
import struct
import sys

ROOTS = {"GO:0003674", "GO:0005575", "GO:0008150"}


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def read_graph(path):
    parents, known = {}, set()
    with open(path) as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line:
                continue
            parent, child, _distance, relation = line.split("\t")
            known.add(child)  # a parent is a term of the graph through a propagating edge only
            if relation in ("is_a", "part_of") and parent.startswith("GO:"):
                known.add(parent)
                parents.setdefault(child, set()).add(parent)
    return parents, known


def ancestors_of(parents):
    memo = {}

    def up(term):
        if term not in memo:
            memo[term] = set()
            out = set()
            for p in parents.get(term, ()):
                out.add(p)
                out |= up(p)
            memo[term] = out
        return memo[term]

    return up


def main():
    predictions_path, queries_path, annotations_path, graph_path = sys.argv[1:5]
    parents, known = read_graph(graph_path)
    up = ancestors_of(parents)

    truth = {}
    with open(annotations_path) as f:
        for line in f:
            fields = line.rstrip("\r\n").split("\t")
            if not fields[0]:
                continue
            terms = truth.setdefault(fields[0], set())
            for t in fields[1:]:
                if t in known:
                    terms.add(t)
                    terms |= up(t)
    with open(queries_path) as f:
        queries = [line.strip() for line in f if line.strip()]

    predicted = {q: {} for q in queries}
    with open(predictions_path) as f:
        header = f.readline().rstrip("\r\n")
        assert header == "query_id\tterm\tscore", header
        for line in f:
            q, term, score = line.rstrip("\r\n").split("\t")
            s = f32(float(score))
            for t in {term} | up(term):  # a term's ancestors score at least as high
                predicted[q][t] = max(predicted[q].get(t, 0.0), s)

    annotated = []
    for q in queries:
        t = truth.get(q, set()) - ROOTS
        if t:
            annotated.append((t, {k: v for k, v in predicted[q].items() if k not in ROOTS}))
    best = {"fmax": 0.0, "threshold": 0.0, "precision": 0.0, "recall": 0.0, "coverage": 0.0,
            "queries": len(annotated)}
    if not annotated:
        print(json.dumps(best))
        return
    for i in range(101):
        t = f32(i / 100)
        precisions, recall_sum = [], 0.0
        for true_terms, scores in annotated:
            p = {k for k, v in scores.items() if v >= t}
            hit = len(p & true_terms)
            if p:
                precisions.append(hit / len(p))
            recall_sum += hit / len(true_terms)
        precision = sum(precisions) / len(precisions) if precisions else 0.0
        recall = recall_sum / len(annotated)
        f = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
        if f > best["fmax"]:
            best.update(fmax=f, threshold=i / 100, precision=precision, recall=recall,
                        coverage=len(precisions) / len(annotated))
    print(json.dumps(best))


if __name__ == "__main__":
    main()
