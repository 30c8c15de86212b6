// CAFA's BLAST baseline (Radivojac et al., 2013): every query takes the GO terms of its best
// BLAST hit among the lookup proteins, scored by the hit's sequence identity. The yardstick that
// an embedding-based transfer (go_transfer.h) has to beat to show the embeddings know more than
// sequence similarity does.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "trainer/probe/blast_db.h"
#include "trainer/probe/fmax.h"
#include "trainer/probe/go_graph.h"

namespace ankh::probe {

struct BlastOptions {
  // Created if missing; receives lookup.fasta, the database lookup.p*, queries.fasta and
  // hits.tsv (kept, for a look at what BLAST found).
  std::filesystem::path work_dir;
  int threads = 1;           // blastp -num_threads
  int max_target_seqs = 5;   // blastp -max_target_seqs
  double evalue = 10;        // blastp -evalue
};

// A query's best hit: the lookup protein with the highest bit score (the first of equals, in
// BLAST's order), or subject -1 when BLAST found none.
struct BlastHit {
  int64_t subject = -1;  // index into the lookup proteins
  double identity = 0;   // pident / 100
  double bitscore = 0;
};

// Runs makeblastdb on `lookup` and blastp of `queries` against it (`-outfmt "6 qseqid sseqid
// pident evalue bitscore"`); one BlastHit per query. Proteins are written under their indices
// (L0.., Q0..), so any id works; proteins without residues are left out and get no hit.
// IoError naming the program when BLAST+ is missing or fails.
std::vector<BlastHit> blast_best_hits(const std::vector<Protein>& lookup, const std::vector<Protein>& queries,
                                      const BlastOptions& options);

// The best hits of a blastp table written as above: rows name queries "Q<i>", i < queries, and
// subjects "L<j>", j < lookups. InputError naming file:line for any other row.
std::vector<BlastHit> read_best_hits(const std::filesystem::path& table, int64_t queries, int64_t lookups);

// Each query with a hit gets the terms of its subject, all scored with the hit's identity;
// `lookup_terms[j]` are lookup protein j's (propagated) terms. Sorted by term.
std::vector<Prediction> transfer_best_hits(const std::vector<BlastHit>& hits, const std::vector<TermSet>& lookup_terms);

}  // namespace ankh::probe
