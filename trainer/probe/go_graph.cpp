#include "trainer/probe/go_graph.h"

#include <algorithm>
#include <utility>

#include "core/error.h"
#include "core/files.h"
#include "core/strings.h"

namespace ankh::probe {

namespace {

constexpr const char* kFormatHint =
    "a goGraph.txt line reads parent<TAB>child<TAB>distance<TAB>relation, e.g. "
    "GO:0008150<TAB>GO:0000003<TAB>1<TAB>is_a (metastudent-data's dataset_201401/goGraph.txt)";

bool is_go_id(std::string_view name) { return core::starts_with(name, "GO:"); }
bool propagates(std::string_view relation) { return relation == "is_a" || relation == "part_of"; }

// A compressed row layout of per-term lists: offsets[t] .. offsets[t+1] index into flat.
void flatten(const std::vector<std::vector<TermId>>& lists, std::vector<int64_t>& offsets, std::vector<TermId>& flat) {
  offsets.assign(lists.size() + 1, 0);
  for (std::size_t t = 0; t < lists.size(); ++t) offsets[t + 1] = offsets[t] + static_cast<int64_t>(lists[t].size());
  flat.clear();
  flat.reserve(static_cast<std::size_t>(offsets.back()));
  for (const auto& list : lists) flat.insert(flat.end(), list.begin(), list.end());
}

void sort_unique(std::vector<TermId>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

// Collects the lines of a graph file, then lays out parents and precomputes every ancestor set.
class GoGraphBuilder {
 public:
  explicit GoGraphBuilder(std::string source) : source_(std::move(source)) {}

  void add_line(std::string_view line, int64_t number);
  GoGraph finish();

 private:
  TermId intern(const std::string& name);
  std::vector<std::vector<TermId>> parent_lists() const;
  std::vector<std::vector<TermId>> ancestor_lists(const std::vector<std::vector<TermId>>& parents) const;
  [[noreturn]] void malformed(int64_t number, const std::string& what) const {
    throw core::InputError(what, source_ + ":" + std::to_string(number), kFormatHint);
  }

  std::string source_;
  GoGraph graph_;
  std::vector<std::pair<TermId, TermId>> edges_;  // (child, parent)
};

TermId GoGraphBuilder::intern(const std::string& name) {
  const auto [it, added] = graph_.ids_.emplace(name, static_cast<TermId>(graph_.names_.size()));
  if (added) graph_.names_.push_back(name);
  return it->second;
}

void GoGraphBuilder::add_line(std::string_view line, int64_t number) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (core::trim(line).empty()) return;
  const std::vector<std::string> fields = core::split(line, '\t');
  if (fields.size() != 4)
    malformed(number, "expected 4 tab-separated fields (parent, child, distance, relation), found " +
                          std::to_string(fields.size()));
  const std::string& parent = fields[0];
  const std::string& child = fields[1];
  if (parent.empty() || child.empty()) malformed(number, "empty term name");
  const auto distance = core::parse_int(fields[2]);
  if (!distance || *distance < 0) malformed(number, "distance '" + fields[2] + "' is not a non-negative integer");
  if (fields[3].empty()) malformed(number, "empty relation");
  if (!is_go_id(child)) return;  // a pseudo-term below a pseudo-term says nothing about GO terms
  const TermId child_id = intern(child);
  if (is_go_id(parent) && propagates(fields[3])) edges_.emplace_back(child_id, intern(parent));
}

std::vector<std::vector<TermId>> GoGraphBuilder::parent_lists() const {
  std::vector<std::vector<TermId>> parents(graph_.names_.size());
  for (const auto& [child, parent] : edges_) parents[static_cast<std::size_t>(child)].push_back(parent);
  for (auto& list : parents) sort_unique(list);  // is_a and part_of to the same parent count once
  return parents;
}

// Kahn's order: a term is done once all its parents are, and its ancestors are its parents and
// theirs. Iterative, so a deep graph cannot overflow the stack; a term never done is on a cycle.
std::vector<std::vector<TermId>> GoGraphBuilder::ancestor_lists(const std::vector<std::vector<TermId>>& parents) const {
  const std::size_t n = parents.size();
  std::vector<std::vector<TermId>> children(n), ancestors(n);
  std::vector<std::size_t> pending(n);
  std::vector<TermId> ready;
  for (std::size_t t = 0; t < n; ++t) {
    pending[t] = parents[t].size();
    if (pending[t] == 0) ready.push_back(static_cast<TermId>(t));
    for (TermId p : parents[t]) children[static_cast<std::size_t>(p)].push_back(static_cast<TermId>(t));
  }
  std::size_t done = 0;
  while (!ready.empty()) {
    const auto t = static_cast<std::size_t>(ready.back());
    ready.pop_back();
    ++done;
    auto& mine = ancestors[t];
    for (TermId p : parents[t]) {
      mine.push_back(p);
      const auto& theirs = ancestors[static_cast<std::size_t>(p)];
      mine.insert(mine.end(), theirs.begin(), theirs.end());
    }
    sort_unique(mine);
    for (TermId c : children[t])
      if (--pending[static_cast<std::size_t>(c)] == 0) ready.push_back(c);
  }
  if (done != n) {
    const auto on_cycle = std::find_if(pending.begin(), pending.end(), [](std::size_t k) { return k > 0; }) - pending.begin();
    throw core::InputError("the is_a/part_of edges form a cycle through " + graph_.names_[static_cast<std::size_t>(on_cycle)],
                           source_, "the Gene Ontology is a directed acyclic graph: is this a GO graph file?");
  }
  return ancestors;
}

GoGraph GoGraphBuilder::finish() {
  const auto parents = parent_lists();
  const auto ancestors = ancestor_lists(parents);
  flatten(parents, graph_.parent_offsets_, graph_.parents_);
  flatten(ancestors, graph_.ancestor_offsets_, graph_.ancestors_);
  graph_.roots_[0] = graph_.find(kMolecularFunction);
  graph_.roots_[1] = graph_.find(kCellularComponent);
  graph_.roots_[2] = graph_.find(kBiologicalProcess);
  return std::move(graph_);
}

GoGraph GoGraph::parse(std::string_view text, const std::string& source) {
  GoGraphBuilder builder(source);
  int64_t number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    builder.add_line(text.substr(0, end), ++number);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  return builder.finish();
}

GoGraph GoGraph::load(const std::filesystem::path& path) { return parse(core::read_file(path), path.string()); }

TermId GoGraph::find(std::string_view name) const {
  const auto it = ids_.find(std::string(name));
  return it == ids_.end() ? kNoTerm : it->second;
}

TermRange GoGraph::range(const std::vector<int64_t>& offsets, const std::vector<TermId>& flat, TermId term) {
  const auto t = static_cast<std::size_t>(term);
  const TermId* base = flat.data();
  return {base + offsets.at(t), base + offsets.at(t + 1)};
}

TermSet GoGraph::propagate(const std::vector<TermId>& terms) const {
  TermSet out(terms);
  for (TermId t : terms) {
    const TermRange up = ancestors(t);
    out.insert(out.end(), up.begin(), up.end());
  }
  sort_unique(out);
  return out;
}

bool GoGraph::is_root(TermId term) const {
  return term != kNoTerm && (term == roots_[0] || term == roots_[1] || term == roots_[2]);
}

TermId GoGraph::root_of(TermId term) const {
  if (is_root(term)) return term;
  for (TermId a : ancestors(term))
    if (is_root(a)) return a;
  return kNoTerm;
}

}  // namespace ankh::probe
