// Probe task files (strict reading, path resolution, overrides, the YAML kept in results) and
// class labels from a TSV or from GO classes (the most specific class term wins).
#include "tests/unit/probe_test_util.h"

// ---- task files --------------------------------------------------------------------------------

TEST(ProbeTask, ReadsAGoTransferFileWithPathsRelativeToIt) {
  ScratchDir dir;
  write_text(dir / "tasks" / "mfo.yaml",
             "fasta: ../data/p.fasta\nannotations: a.dat\ngo_graph: /abs/graph.txt\nk: 3\ndistance: cosine\n"
             "max_lookup: 20\n");
  const ProbeTask task = load_probe_task(dir / "tasks" / "mfo.yaml");
  EXPECT_EQ(task.kind, ProbeKind::GoTransfer);
  EXPECT_EQ(task.name, "mfo");  // the file's stem
  EXPECT_EQ(task.fasta, (dir / "data" / "p.fasta").string());
  EXPECT_EQ(task.annotations, (dir / "tasks" / "a.dat").string());
  EXPECT_EQ(task.go_graph, "/abs/graph.txt");
  EXPECT_TRUE(task.blastdb.empty());
  EXPECT_EQ(task.k, 3);
  EXPECT_EQ(task.distance, Distance::Cosine);
  EXPECT_EQ(task.max_lookup, 20);
  EXPECT_EQ(task.max_query, 0);
  EXPECT_EQ(task.max_length, 1000);
  EXPECT_DOUBLE_EQ(task.query_fraction, 0.1);
  EXPECT_EQ(task.seed, 0);
  EXPECT_EQ(task.file, dir / "tasks" / "mfo.yaml");

  // key=value overrides (the command line's) win over the file.
  const ProbeTask overridden = load_probe_task(dir / "tasks" / "mfo.yaml", {"max_query=5", "name=custom", "k=2"});
  EXPECT_EQ(overridden.max_query, 5);
  EXPECT_EQ(overridden.k, 2);
  EXPECT_EQ(overridden.name, "custom");
  const std::string bad = error_of<ConfigError>([&] { load_probe_task(dir / "tasks" / "mfo.yaml", {"max_qurey=5"}); });
  EXPECT_TRUE(contains(bad, "max_qurey: unknown key")) << bad;
  EXPECT_TRUE(contains(bad, "did you mean max_query?")) << bad;
}

TEST(ProbeTask, ReadsAClassificationFileWithClassesAndRoundTripsAsYaml) {
  ScratchDir dir;
  write_text(dir / "loc.yaml",
             "kind: classification\nblastdb: db/proteins\nannotations: annot.dat\ngo_graph: graph.txt\n"
             "classes:\n  mitochondrion: GO:0005739\n  nucleus: GO:0005634\n  cell membrane: GO:0005886\n"
             "valid_fraction: 0.3\nbootstrap: 50\nseed: 4\n");
  const ProbeTask task = load_probe_task(dir / "loc.yaml");
  EXPECT_EQ(task.kind, ProbeKind::Classification);
  EXPECT_EQ(task.name, "loc");
  EXPECT_EQ(task.blastdb, (dir / "db" / "proteins").string());
  EXPECT_TRUE(task.fasta.empty());
  EXPECT_TRUE(task.labels.empty());
  const std::map<std::string, std::string> classes = {
      {"cell membrane", "GO:0005886"}, {"mitochondrion", "GO:0005739"}, {"nucleus", "GO:0005634"}};
  EXPECT_EQ(task.classes, classes);
  EXPECT_DOUBLE_EQ(task.valid_fraction, 0.3);
  EXPECT_EQ(task.bootstrap, 50);
  EXPECT_EQ(task.seed, 4);

  // task_yaml (what results.json keeps) reads back as the same task.
  const std::string yaml = task_yaml(task);
  EXPECT_TRUE(contains(yaml, "classes:\n")) << yaml;
  EXPECT_TRUE(contains(yaml, "mitochondrion: GO:0005739")) << yaml;
  EXPECT_TRUE(contains(yaml, "kind: classification")) << yaml;
  write_text(dir / "copy" / "again.yaml", yaml);
  const ProbeTask again = load_probe_task(dir / "copy" / "again.yaml");
  EXPECT_EQ(again.kind, task.kind);
  EXPECT_EQ(again.name, "loc");  // kept from the YAML, not the new file's name
  EXPECT_EQ(again.blastdb, task.blastdb);
  EXPECT_EQ(again.annotations, task.annotations);
  EXPECT_EQ(again.go_graph, task.go_graph);
  EXPECT_EQ(again.classes, task.classes);
  EXPECT_DOUBLE_EQ(again.valid_fraction, task.valid_fraction);
  EXPECT_EQ(again.bootstrap, task.bootstrap);
  EXPECT_EQ(again.seed, task.seed);
  EXPECT_EQ(again.max_length, task.max_length);
  EXPECT_DOUBLE_EQ(again.query_fraction, task.query_fraction);
  EXPECT_EQ(task_yaml(again), yaml);

  // A labels classification round-trips too (and has no classes: section).
  write_text(dir / "labels.yaml", "kind: classification\nfasta: p.fasta\nlabels: l.tsv\n");
  const ProbeTask labels = load_probe_task(dir / "labels.yaml");
  EXPECT_EQ(labels.labels, (dir / "l.tsv").string());
  EXPECT_FALSE(contains(task_yaml(labels), "classes:"));
  write_text(dir / "copy" / "labels.yaml", task_yaml(labels));
  EXPECT_EQ(load_probe_task(dir / "copy" / "labels.yaml").labels, labels.labels);
}

TEST(ProbeTask, ReportsEveryProblemWithFileAndLine) {
  ScratchDir dir;
  const auto load_error = [&](const std::string& name, const std::string& text,
                              const std::vector<std::string>& overrides = {}) {
    write_text(dir / name, text);
    return error_of<ConfigError>([&] { load_probe_task(dir / name, overrides); });
  };
  const std::string where = (dir / "t.yaml").string();

  // An unknown key (with the nearest one suggested) and a wrong type, both at once.
  std::string e = load_error("t.yaml", "fasta: p.fasta\nannotations: a\nmax_lenght: 5\ngo_graph: g\nk: many\n");
  EXPECT_TRUE(contains(e, where + ":3: max_lenght: unknown key (did you mean max_length?)")) << e;
  EXPECT_TRUE(contains(e, where + ":5: k:")) << e;
  EXPECT_TRUE(contains(e, "2 problems")) << e;

  e = load_error("t.yaml", "fasta: p.fasta\nblastdb: db\nannotations: a\ngo_graph: g\n");
  EXPECT_TRUE(contains(e, "exactly one of fasta and blastdb")) << e;
  e = load_error("t.yaml", "annotations: a\ngo_graph: g\n");
  EXPECT_TRUE(contains(e, "exactly one of fasta and blastdb")) << e;
  e = load_error("t.yaml", "fasta: p.fasta\n");
  EXPECT_TRUE(contains(e, "go_transfer needs GO annotations")) << e;
  EXPECT_TRUE(contains(e, "go_transfer needs the GO graph")) << e;
  e = load_error("t.yaml", "fasta: p.fasta\nannotations: a\ngo_graph: g\nlabels: l.tsv\n");
  EXPECT_TRUE(contains(e, "labels and classes belong to classification tasks")) << e;

  e = load_error("t.yaml", "kind: classification\nfasta: p.fasta\nannotations: a\ngo_graph: g\nlabels: l.tsv\n"
                           "classes:\n  a: GO:0000001\n  b: GO:0000002\n");
  EXPECT_TRUE(contains(e, "exactly one of labels (a TSV) and classes")) << e;
  e = load_error("t.yaml", "kind: classification\nfasta: p.fasta\n");
  EXPECT_TRUE(contains(e, "exactly one of labels (a TSV) and classes")) << e;
  e = load_error("t.yaml", "kind: classification\nfasta: p.fasta\nannotations: a\ngo_graph: g\n"
                           "classes:\n  mito: mitochondrion\n  nucleus: GO:0005634\n");
  EXPECT_TRUE(contains(e, "classes.mito: 'mitochondrion' is not a GO term")) << e;
  e = load_error("t.yaml", "kind: classification\nfasta: p.fasta\nclasses:\n  a: GO:0000001\n  b: GO:0000002\n");
  EXPECT_TRUE(contains(e, "classes from GO terms need annotations and go_graph")) << e;
  e = load_error("t.yaml", "kind: classification\nfasta: p.fasta\nannotations: a\ngo_graph: g\n"
                           "classes:\n  only: GO:0000001\n");
  EXPECT_TRUE(contains(e, "at least 2 classes")) << e;
  e = load_error("t.yaml", "kind: classification\nfasta: p.fasta\nannotations: a\ngo_graph: g\nclasses: GO:0000001\n");
  EXPECT_TRUE(contains(e, where + ":5: classes: must be a map")) << e;
  e = load_error("t.yaml", "kind: classification\nfasta: p.fasta\nannotations: a\ngo_graph: g\n"
                           "classes:\n  a: [GO:0000001]\n  b: GO:0000002\n");
  EXPECT_TRUE(contains(e, where + ":6: classes.a: must be a GO term")) << e;

  e = load_error("t.yaml", "kind: clasification\nfasta: p.fasta\nlabels: l\n");
  EXPECT_TRUE(contains(e, where + ":1: kind:")) << e;
  EXPECT_TRUE(contains(e, "classification")) << e;
  e = load_error("t.yaml", "fasta: p.fasta\nannotations: a\ngo_graph: g\nquery_fraction: 1.5\n");
  EXPECT_TRUE(contains(e, where + ":4: query_fraction:")) << e;
  e = load_error("t.yaml", "fasta: p.fasta\nannotations: a\ngo_graph: g\n", {"max_query=-1"});
  EXPECT_TRUE(contains(e, "max_query:")) << e;

  const std::string missing = error_of<ankh::core::IoError>([&] { load_probe_task(dir / "none.yaml"); });
  EXPECT_TRUE(contains(missing, "no such probe task file")) << missing;
}

// ---- class labels ------------------------------------------------------------------------------

TEST(ClassLabels, ReadsATsv) {
  ScratchDir dir;
  ProbeTask task;
  task.kind = ProbeKind::Classification;
  task.labels = (dir / "labels.tsv").string();
  write_text(dir / "labels.tsv", "P1\tnucleus\r\nP2\tcytoplasm\n\nP3\tnucleus\nP1\tnucleus\nP4\tsecreted\n");
  const ClassLabels labels = read_class_labels(task);
  EXPECT_EQ(labels.names, (std::vector<std::string>{"cytoplasm", "nucleus", "secreted"}));
  EXPECT_EQ(labels.label.size(), 4u);
  EXPECT_EQ(labels.label.at("P1"), 1);
  EXPECT_EQ(labels.label.at("P2"), 0);
  EXPECT_EQ(labels.label.at("P3"), 1);
  EXPECT_EQ(labels.label.at("P4"), 2);
  EXPECT_EQ(labels.ambiguous, 0);

  write_text(dir / "labels.tsv", "P1\tnucleus\nP2 cytoplasm\n");
  std::string e = error_of<InputError>([&] { read_class_labels(task); });
  EXPECT_TRUE(contains(e, task.labels + ":2: expected id<TAB>label")) << e;
  write_text(dir / "labels.tsv", "P1\tnucleus\nP2\ta\tb\n");
  e = error_of<InputError>([&] { read_class_labels(task); });
  EXPECT_TRUE(contains(e, task.labels + ":2:")) << e;
  write_text(dir / "labels.tsv", "P1\tnucleus\nP2\tcytoplasm\nP1\tcytoplasm\n");
  e = error_of<InputError>([&] { read_class_labels(task); });
  EXPECT_TRUE(contains(e, task.labels + ":3: protein P1 has two labels ('nucleus' and 'cytoplasm')")) << e;
  write_text(dir / "labels.tsv", "P1\tnucleus\nP2\tnucleus\n");
  e = error_of<InputError>([&] { read_class_labels(task); });
  EXPECT_TRUE(contains(e, "fewer than 2 classes")) << e;
}

TEST(ClassLabels, GoClassesCountOnlyTheMostSpecificTerm) {
  ScratchDir dir;
  write_text(dir / "graph.txt", graph_text());
  // MITO is part_of CYTO, MATRIX is_a MITO.
  write_text(dir / "annot.dat", std::string("matrix\t") + kMatrix + "\n" +  // MATRIX -> MITO, CYTO: mito
                                    "mito\t" + kMito + "\n" +                 // mito
                                    "cyto\t" + kCyto + "\n" +                 // cyto
                                    "mito_cyto\t" + kMito + "\t" + kCyto + "\n" +  // cyto is MITO's ancestor: mito
                                    "mito_nucleus\t" + kMatrix + "\t" + kNucleus + "\n" +  // ambiguous
                                    "cyto_nucleus\t" + kCyto + "\t" + kNucleus + "\n" +    // ambiguous
                                    "other\t" + kOther + "\n" +  // in no class
                                    "root\t" + kCC + "\n" +      // in no class
                                    "nucleus\t" + kNucleus + "\t" + kOther + "\n");  // nucleus
  ProbeTask task;
  task.kind = ProbeKind::Classification;
  task.annotations = (dir / "annot.dat").string();
  task.go_graph = (dir / "graph.txt").string();
  task.classes = {{"mito", kMito}, {"cyto", kCyto}, {"nucleus", kNucleus}};
  task.file = dir / "loc.yaml";
  const ClassLabels labels = read_class_labels(task);
  ASSERT_EQ(labels.names, (std::vector<std::string>{"cyto", "mito", "nucleus"}));
  const std::map<std::string, std::string> expected = {
      {"matrix", "mito"}, {"mito", "mito"}, {"cyto", "cyto"}, {"mito_cyto", "mito"}, {"nucleus", "nucleus"}};
  std::map<std::string, std::string> got;
  for (const auto& [id, c] : labels.label) got[id] = labels.names.at(static_cast<std::size_t>(c));
  EXPECT_EQ(got, expected);
  EXPECT_EQ(labels.ambiguous, 2);

  task.classes["missing"] = "GO:0999999";
  const std::string e = error_of<InputError>([&] { read_class_labels(task); });
  EXPECT_TRUE(contains(e, (dir / "loc.yaml").string())) << e;
  EXPECT_TRUE(contains(e, "class missing: GO:0999999 is not in the GO graph")) << e;
}
