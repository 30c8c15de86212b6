#!/usr/bin/python3
"""tiny_go_task.py DIR: a tiny GO-transfer probe task for tests, in DIR/data (graph.txt,
proteins.fasta, annot.dat) and DIR/go.yaml: four protein families of 20, each rich in one residue
and annotated with one term of a seven-term graph (is_a and part_of edges under the MF root)."""
import os
import random
import sys

out = os.path.join(sys.argv[1], "data")
os.makedirs(out, exist_ok=True)
random.seed(11)
letters = "ACDEFGHIKLMNPQRSTVWY"
terms = ["GO:0000003", "GO:0000004", "GO:0000005", "GO:0000006"]
rich = "AWKE"
with open(os.path.join(out, "graph.txt"), "w") as f:
    for parent, child, relation in [("GO:0003674", "GO:0000001", "is_a"), ("GO:0003674", "GO:0000002", "is_a"),
                                    ("GO:0000001", "GO:0000003", "is_a"), ("GO:0000001", "GO:0000004", "is_a"),
                                    ("GO:0000002", "GO:0000005", "part_of"), ("GO:0000002", "GO:0000006", "is_a"),
                                    ("GO:0000004", "GO:0000006", "is_a")]:
        f.write(f"{parent}\t{child}\t1\t{relation}\n")
with open(os.path.join(out, "proteins.fasta"), "w") as fasta, open(os.path.join(out, "annot.dat"), "w") as annot:
    for i in range(80):
        family = i % 4
        seq = "".join(rich[family] if random.random() < 0.5 else random.choice(letters)
                      for _ in range(random.randint(30, 90)))
        fasta.write(f">Q{i:03d}|{terms[family]} protein {i}\n{seq}\n")
        annot.write(f"Q{i:03d}\t{terms[family]}\n")
with open(os.path.join(sys.argv[1], "go.yaml"), "w") as f:
    f.write("kind: go_transfer\nfasta: data/proteins.fasta\nannotations: data/annot.dat\n"
            "go_graph: data/graph.txt\nquery_fraction: 0.25\nseed: 2\n")
