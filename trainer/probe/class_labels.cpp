#include "trainer/probe/class_labels.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/files.h"
#include "trainer/probe/go_annotations.h"

namespace ankh::probe {

namespace {

ClassLabels labels_from_tsv(const std::string& path) {
  std::istringstream in(core::read_file(path));
  std::map<std::string, std::string> label_of;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto tab = line.find('\t');
    if (tab == std::string::npos || tab == 0 || tab + 1 == line.size() || line.find('\t', tab + 1) != std::string::npos)
      throw core::InputError("expected id<TAB>label", path + ":" + std::to_string(number));
    const std::string id = line.substr(0, tab), label = line.substr(tab + 1);
    const auto [it, added] = label_of.emplace(id, label);
    if (!added && it->second != label)
      throw core::InputError("protein " + id + " has two labels ('" + it->second + "' and '" + label + "')",
                             path + ":" + std::to_string(number));
  }
  ClassLabels out;
  std::map<std::string, int64_t> class_ids;
  for (const auto& [id, label] : label_of) class_ids.emplace(label, 0);
  for (auto& [name, index] : class_ids) {
    index = static_cast<int64_t>(out.names.size());
    out.names.push_back(name);
  }
  for (const auto& [id, label] : label_of) out.label.emplace(id, class_ids.at(label));
  if (out.names.size() < 2) throw core::InputError("fewer than 2 classes", path, "a classification needs 2 or more");
  return out;
}

constexpr int64_t kNone = -1, kSeveral = -2;

// The one class whose term a protein has, counting only the most specific of its class terms
// (the mitochondrion is part of the cytoplasm: a mitochondrial protein is in the mitochondrion
// class, not in two); kNone or kSeveral otherwise.
int64_t single_class(const GoGraph& graph, const TermSet& terms, const std::vector<TermId>& class_terms) {
  std::vector<int64_t> found;
  for (std::size_t c = 0; c < class_terms.size(); ++c)
    if (std::binary_search(terms.begin(), terms.end(), class_terms[c])) found.push_back(static_cast<int64_t>(c));
  int64_t specific = kNone;
  for (const int64_t c : found) {
    bool ancestor_of_another = false;
    for (const int64_t other : found) {
      const auto up = graph.ancestors(class_terms[other]);
      if (other != c && std::binary_search(up.begin(), up.end(), class_terms[c])) ancestor_of_another = true;
    }
    if (ancestor_of_another) continue;
    if (specific != kNone) return kSeveral;
    specific = c;
  }
  return specific;
}

ClassLabels labels_from_go(const ProbeTask& task) {
  const GoGraph graph = GoGraph::load(task.go_graph);
  Annotations annotations = read_annotations(task.annotations, graph);
  propagate_all(annotations, graph);
  ClassLabels out;
  std::vector<TermId> class_terms;
  for (const auto& [name, term] : task.classes) {  // std::map: sorted by name
    const TermId id = graph.find(term);
    if (id == kNoTerm)
      throw core::InputError("class " + name + ": " + term + " is not in the GO graph " + task.go_graph,
                             task.file.string());
    out.names.push_back(name);
    class_terms.push_back(id);
  }
  for (const auto& [protein, terms] : annotations.terms) {
    const int64_t c = single_class(graph, terms, class_terms);
    if (c >= 0) out.label.emplace(protein, c);
    else if (c == kSeveral) ++out.ambiguous;
  }
  return out;
}

}  // namespace

ClassLabels read_class_labels(const ProbeTask& task) {
  return task.labels.empty() ? labels_from_go(task) : labels_from_tsv(task.labels);
}

}  // namespace ankh::probe
