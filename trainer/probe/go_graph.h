// The Gene Ontology as a graph of interned terms, read from the goGraph.txt of Debian's
// metastudent-data (`parent<TAB>child<TAB>distance<TAB>relation`). Annotation transfer and CAFA's
// Fmax work on propagated term sets (a protein annotated with a term has all its ancestors too),
// hundreds of thousands of times per evaluation, so terms are small integers and every term's
// ancestor set is computed once, when the graph is loaded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ankh::probe {

// A term's index in its GoGraph's name table: meaningful only together with that graph.
using TermId = int32_t;
inline constexpr TermId kNoTerm = -1;
// Sorted, without duplicates: what propagate() and the annotation reader return, and what
// fmax() expects as truth.
using TermSet = std::vector<TermId>;

// The three ontology roots. Every protein of an ontology has its root after propagation, so CAFA
// leaves them out of both predictions and truth.
inline constexpr const char* kMolecularFunction = "GO:0003674";
inline constexpr const char* kCellularComponent = "GO:0005575";
inline constexpr const char* kBiologicalProcess = "GO:0008150";

// A read-only view of consecutive term ids (C++17 has no std::span).
class TermRange {
 public:
  TermRange(const TermId* begin, const TermId* end) : begin_(begin), end_(end) {}
  const TermId* begin() const { return begin_; }
  const TermId* end() const { return end_; }
  std::size_t size() const { return static_cast<std::size_t>(end_ - begin_); }
  bool empty() const { return begin_ == end_; }

 private:
  const TermId* begin_;
  const TermId* end_;
};

class GoGraph {
 public:
  // Reads a goGraph.txt. Only is_a and part_of edges propagate annotations (the regulates
  // relations do not imply the parent's function); edges from pseudo-terms that are not GO ids
  // (`obsolete_molecular_function`) are left out, so obsolete terms have no ancestors. Blank
  // lines are skipped. InputError naming file:line for a line without four fields, an empty
  // term or relation, or a distance that is not a non-negative integer; InputError naming a
  // term of the cycle when is_a/part_of edges form one; IoError when the file cannot be read.
  static GoGraph load(const std::filesystem::path& path);
  // The same from text in memory; `source` names it in errors.
  static GoGraph parse(std::string_view text, const std::string& source);

  // Number of terms (ids are 0 .. size()-1) and of the is_a/part_of edges kept (duplicates once).
  int64_t size() const { return static_cast<int64_t>(names_.size()); }
  int64_t edges() const { return static_cast<int64_t>(parents_.size()); }

  // The id of a term name, or kNoTerm when the graph does not have it.
  TermId find(std::string_view name) const;
  const std::string& name(TermId term) const { return names_.at(static_cast<std::size_t>(term)); }

  // Direct is_a/part_of parents, and every term reachable upwards (not the term itself); sorted.
  TermRange parents(TermId term) const { return range(parent_offsets_, parents_, term); }
  TermRange ancestors(TermId term) const { return range(ancestor_offsets_, ancestors_, term); }

  // `terms` (any order, repeats allowed) with all their ancestors: a sorted TermSet.
  TermSet propagate(const std::vector<TermId>& terms) const;

  // Whether `term` is one of the three ontology roots, and which root a term falls under
  // (itself for a root; kNoTerm for a term without one, such as an obsolete term).
  bool is_root(TermId term) const;
  TermId root_of(TermId term) const;
  // The id of a root by name (kMolecularFunction, ...), kNoTerm when this graph lacks it.
  TermId root(const char* root_name) const { return find(root_name); }

 private:
  friend class GoGraphBuilder;
  static TermRange range(const std::vector<int64_t>& offsets, const std::vector<TermId>& flat, TermId term);

  std::vector<std::string> names_;
  std::unordered_map<std::string, TermId> ids_;
  std::vector<int64_t> parent_offsets_, ancestor_offsets_;  // CSR: term t's entries are [off[t], off[t+1])
  std::vector<TermId> parents_, ancestors_;
  TermId roots_[3] = {kNoTerm, kNoTerm, kNoTerm};
};

}  // namespace ankh::probe
