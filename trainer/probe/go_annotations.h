// Gene Ontology annotations of proteins, as metastudent-data ships them (goasp_annot.dat: one
// protein per line, `ID<TAB>GO:…<TAB>GO:…`), the protein ids of its FASTA headers, and the
// hash split of annotated proteins into a lookup set (whose annotations are transferred) and a
// query set (whose annotations are predicted and scored).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "trainer/probe/go_graph.h"

namespace ankh::probe {

struct Annotations {
  // Protein id -> its terms as given (not propagated), sorted, each once. A protein on several
  // lines gets the union, so one line per (protein, term) reads the same as one per protein.
  std::map<std::string, TermSet> terms;
  // Occurrences of terms the graph does not have (newer or retired GO ids): CAFA scores only
  // terms of its ontology, so they are dropped; one of them, for the caller's warning.
  int64_t unknown_terms = 0;
  std::string example_unknown;
};

// Reads an annotation file against `graph`. Blank lines are skipped. InputError naming file:line
// for a line without a protein id or without terms, or with a field that is not a GO id
// (`GO:` followed by its number); IoError when the file cannot be read.
Annotations read_annotations(const std::filesystem::path& path, const GoGraph& graph);
// The same from text in memory; `source` names it in errors.
Annotations parse_annotations(std::string_view text, const std::string& source, const GoGraph& graph);

// Replaces every protein's terms by their propagation (the terms and all their ancestors).
void propagate_all(Annotations& annotations, const GoGraph& graph);

// The protein id of a FASTA header (with or without its '>'): the first word up to the first
// '|'. metastudent's `>B0RED7|GO:0046933,GO:0046933` -> "B0RED7".
std::string protein_id_of_header(std::string_view header);

// Whether protein `id` belongs to the query set: hash_bytes(id, seed) mapped to [0, 1) is below
// `query_fraction`. A function of (id, seed) only, so the split is the same whatever the order,
// the number or the other members of the proteins, and about `query_fraction` of them are queries.
bool in_query_set(std::string_view id, double query_fraction, uint64_t seed);

}  // namespace ankh::probe
