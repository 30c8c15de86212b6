#!/usr/bin/python3
"""Writes a synthetic protein FASTA to stdout: random residues at UniProt's amino-acid
frequencies, lengths log-normal around UniRef50's (median ~250, mean ~310). For scale tests
of `ankh preprocess`, `ankh verify` and `ankh train` start-up, where only the size matters.

    synthetic_fasta.py SEQUENCES [--seed S] | ankh preprocess -i /dev/stdin -o DIR
"""
import argparse
import sys

import numpy as np

LETTERS = np.frombuffer(b"ALGVSREDTIPKFQNYMHWC", dtype=np.uint8)
# UniProtKB/Swiss-Prot composition (percent), in the order of LETTERS.
FREQ = np.array([8.25, 9.65, 7.07, 6.86, 6.56, 5.53, 6.72, 5.46, 5.35, 5.91,
                 4.74, 5.80, 3.86, 3.93, 4.06, 2.92, 2.41, 2.27, 1.10, 1.38])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sequences", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chunk", type=int, default=20000)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    cdf = np.cumsum(FREQ / FREQ.sum())
    out = sys.stdout.buffer
    done = 0
    while done < a.sequences:
        n = min(a.chunk, a.sequences - done)
        lengths = np.clip(rng.lognormal(mean=5.55, sigma=0.6, size=n).astype(np.int64), 20, 35000)
        residues = LETTERS[np.searchsorted(cdf, rng.random(int(lengths.sum())))].tobytes()
        ends = np.cumsum(lengths)
        parts = []
        start = 0
        for i, end in enumerate(ends.tolist()):
            parts.append(b">SYN%010d\n" % (done + i))
            parts.append(residues[start:end])
            parts.append(b"\n")
            start = end
        out.write(b"".join(parts))
        done += n


if __name__ == "__main__":
    main()
