// The proteins of a probe task and their split: read from the task's FASTA file or BLAST
// database, kept when labelled and not longer than max_length, split into lookup (training) and
// query (test) sets by a seeded hash of the id (in_query_set), and each set capped by a seeded
// uniform choice. Everything is a function of (ids, seed): the same task gives the same sets on
// any machine, and streaming keeps memory bounded by the caps, not by the database (Swiss-Prot's
// MFO set alone has 459,503 proteins).
#pragma once

#include <cstdint>
#include <functional>
#include <filesystem>
#include <string>
#include <vector>

#include "trainer/probe/probe_task.h"
#include "trainer/probe/protein.h"

namespace ankh::probe {

struct ProteinCounts {
  int64_t read = 0;        // records in the FASTA file or database
  int64_t unlabelled = 0;  // left out: `keep` said no (no label, or no annotation but the roots)
  int64_t too_long = 0;    // left out: more than max_length residues
  int64_t duplicates = 0;  // left out: an id seen before (the first record is kept)
};

struct ProteinSplit {
  std::vector<Protein> lookup;  // go_transfer: the lookup set; classification: the training set
  std::vector<Protein> query;   // the queries; classification: the test set
  ProteinCounts counts;
  int64_t lookup_candidates = 0, query_candidates = 0;  // before the caps
};

// Reads the task's proteins (FASTA file, or its BLAST database through blastdbcmd), keeps those
// with keep(id) and at most max_length residues, and splits them: in_query_set(id,
// query_fraction, seed) decides the part; each part keeps the max_lookup / max_query proteins
// (0: all) of smallest hash(seed, id), in file order. InputError naming file:line for malformed
// records; `work_dir` receives the database's FASTA export (and nothing else).
ProteinSplit read_protein_split(const ProbeTask& task, const std::function<bool(const std::string&)>& keep,
                                const std::filesystem::path& work_dir);

}  // namespace ankh::probe
