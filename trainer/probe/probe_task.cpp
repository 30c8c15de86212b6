#include "trainer/probe/probe_task.h"

#include "core/config.h"

namespace ankh::probe {

namespace fs = std::filesystem;
using core::Bounds;

const core::Choices<ProbeKind>& probe_kinds() {
  static const core::Choices<ProbeKind> table{{ProbeKind::GoTransfer, "go_transfer"},
                                              {ProbeKind::Classification, "classification"}};
  return table;
}

void ProbeTask::visit(core::FieldVisitor& v) {
  v.section("", "a probe task (docs/probes.md)");
  core::choice(v, "kind", kind, probe_kinds(),
               "go_transfer: GO terms of the nearest lookup proteins, CAFA Fmax; classification: linear probe");
  v.field("name", name, "name in results and sweep summaries (default: the file's name)");
  v.field("fasta", fasta, "proteins: a FASTA file (plain or gzip)");
  v.field("blastdb", blastdb, "proteins: a BLAST protein database, read with blastdbcmd");
  v.field("max_length", max_length, Bounds::at_least(1), "proteins with more residues are left out");
  v.field("annotations", annotations, "GO annotations: id<TAB>GO:...<TAB>GO:... per line");
  v.field("go_graph", go_graph, "GO graph: parent<TAB>child<TAB>distance<TAB>relation per line");
  v.field("labels", labels, "classification: id<TAB>label per line (instead of classes)");
  v.field("query_fraction", query_fraction, Bounds::open(0, 1),
          "held-out fraction of the labelled proteins (queries; the test set), by a hash of the id");
  v.field("seed", seed, Bounds::closed(0, 9007199254740992.0), "seed of the split and the size caps");
  v.field("max_lookup", max_lookup, Bounds::at_least(0), "lookup (training) proteins kept at most (0: all)");
  v.field("max_query", max_query, Bounds::at_least(0), "query (test) proteins kept at most (0: all)");
  v.field("k", k, Bounds::at_least(1), "go_transfer: nearest lookup proteins whose terms a query takes");
  core::choice(v, "distance", distance, distances(), "go_transfer: distance between embeddings");
  v.field("valid_fraction", valid_fraction, Bounds::open(0, 1),
          "classification: part of the training set that chooses the L2 penalty");
  v.field("bootstrap", bootstrap, Bounds::at_least(10), "classification: resamples of the 95 % intervals");
}

void ProbeTask::validate(core::IssueList& issues) const {
  if (fasta.empty() == blastdb.empty())
    issues.add("fasta", "", "give exactly one of fasta and blastdb (the proteins)");
  if (kind == ProbeKind::GoTransfer) {
    if (annotations.empty()) issues.add("annotations", "", "go_transfer needs GO annotations");
    if (go_graph.empty()) issues.add("go_graph", "", "go_transfer needs the GO graph");
    if (!labels.empty() || !classes.empty())
      issues.add("labels", "", "labels and classes belong to classification tasks");
    return;
  }
  if (labels.empty() == classes.empty())
    issues.add("classes", "", "a classification task takes exactly one of labels (a TSV) and classes (GO terms)");
  if (!classes.empty() && (annotations.empty() || go_graph.empty()))
    issues.add("classes", "", "classes from GO terms need annotations and go_graph");
  if (classes.size() == 1) issues.add("classes", "", "a classification needs at least 2 classes");
  for (const auto& [label, term] : classes)
    if (term.rfind("GO:", 0) != 0) issues.add("classes." + label, "", "'" + term + "' is not a GO term (GO:nnnnnnn)");
}

namespace {

// `classes:` is a map of the user's own names, which no schema can list: it is taken out of the
// source first and the rest is read strictly.
core::ConfigSource take_classes(const core::ConfigSource& source, ProbeTask& task, core::IssueList& issues) {
  core::ConfigSource rest;
  const std::string prefix = "classes.";
  for (const auto& [key, setting] : source.settings()) {
    if (key == "classes") continue;  // not a map: reported below
    if (key.rfind(prefix, 0) != 0) {
      rest.set(key, setting);
      continue;
    }
    if (!setting.is_scalar || setting.is_null)
      issues.add(key, setting.origin, "must be a GO term (classes: {name: GO:nnnnnnn, ...})");
    else task.classes[key.substr(prefix.size())] = setting.value;
  }
  if (const auto* s = source.find("classes"); s && !s->is_null)
    issues.add("classes", s->origin, "must be a map of class name to GO term");
  return rest;
}

// Paths in a task file are relative to the file, like `base:`.
void resolve_relative(std::string& path, const fs::path& dir) {
  if (!path.empty() && fs::path(path).is_relative()) path = (dir / path).lexically_normal().string();
}

}  // namespace

ProbeTask load_probe_task(const fs::path& file, const std::vector<std::string>& overrides) {
  std::error_code ec;  // the throwing overload would let a std::filesystem_error out (a name too long, say)
  if (!fs::is_regular_file(file, ec))
    throw core::IoError("no such probe task file", file.string(), "see configs/probes/ for examples");
  core::ConfigSource source;
  source.add_file(file);
  for (const auto& o : overrides) source.add_override(o);

  ProbeTask task;
  core::IssueList issues;
  for (const auto& issue : source.issues().issues()) issues.add(issue.key, issue.origin, issue.message, issue.hint);
  const core::ConfigSource rest = take_classes(source, task, issues);
  core::apply_settings(rest, [&](core::FieldVisitor& v) { task.visit(v); }, issues,
                       "see docs/probes.md for the keys of a task file");
  if (issues.empty()) task.validate(issues);
  issues.throw_if_any();

  task.file = file;
  if (task.name.empty()) task.name = file.stem().string();
  const fs::path dir = file.parent_path();
  for (std::string* path : {&task.fasta, &task.blastdb, &task.annotations, &task.go_graph, &task.labels})
    resolve_relative(*path, dir);
  return task;
}

std::string task_yaml(const ProbeTask& task) {
  ProbeTask copy = task;
  std::string yaml = core::to_yaml([&](core::FieldVisitor& v) { copy.visit(v); });
  if (!task.classes.empty()) {
    yaml += "classes:\n";
    for (const auto& [label, term] : task.classes) yaml += "  " + core::yaml_quote(label) + ": " + term + "\n";
  }
  return yaml;
}

}  // namespace ankh::probe
