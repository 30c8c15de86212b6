// `ankh probe`'s glue, on tiny data each test writes itself: task files (strict reading, path
// resolution, overrides, the YAML kept in results), class labels from a TSV or from GO classes
// (most specific class term wins), the protein split (determinism, caps, counts, FASTA and BLAST
// database routes), the composition and dipeptide baselines and the source parser, feature
// caching, and run_probe end to end for both kinds of probe, Fmax recomputed by
// tests/probe/recompute_fmax.py from predictions.tsv and queries.txt alone.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "core/hash.h"
#include "core/subprocess.h"
#include "tests/support/test_support.h"
#include "trainer/probe/blast_db.h"
#include "trainer/probe/class_labels.h"
#include "trainer/probe/go_annotations.h"
#include "trainer/probe/probe_run.h"
#include "trainer/probe/probe_source.h"
#include "trainer/probe/probe_task.h"
#include "trainer/probe/protein_set.h"

using namespace ankh::probe;
using ankh::core::ConfigError;
using ankh::core::InputError;
using ankh::core::UsageError;
using ankh::testing::error_of;
using ankh::testing::ScratchDir;
using ankh::testing::write_text;
namespace fs = std::filesystem;

namespace {

constexpr const char* kAminoAcids = "ACDEFGHIKLMNPQRSTVWY";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

bool have_blast() {
  for (const char* program : {"makeblastdb", "blastp", "blastdbcmd"})
    if (!ankh::core::find_program(program)) return false;
  return true;
}

// `length` residues, each `rich` with probability `share`, otherwise uniform over the 20.
std::string protein(uint64_t seed, std::size_t length, char rich = 0, double share = 0) {
  ankh::core::SplitMix64 rng(seed);
  std::string s;
  for (std::size_t i = 0; i < length; ++i) s += rich && rng.uniform() < share ? rich : kAminoAcids[rng.below(20)];
  return s;
}

// "P007".
std::string pid(int i) {
  char id[16];
  std::snprintf(id, sizeof id, "P%03d", i);
  return id;
}

std::vector<std::string> ids_of(const std::vector<Protein>& proteins) {
  std::vector<std::string> ids;
  for (const auto& p : proteins) ids.push_back(p.id);
  return ids;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Whether `part` appears in `whole` in the same relative order.
bool is_subsequence(const std::vector<std::string>& part, const std::vector<std::string>& whole) {
  std::size_t at = 0;
  for (const auto& w : whole)
    if (at < part.size() && part[at] == w) ++at;
  return at == part.size();
}

// A small molecular-function ontology (MF is the root):
//   MF <- T1 <- T3            T1, T2 is_a MF; T3, T4 is_a T1; T5 part_of T2;
//   MF <- T2 <- T5 (part_of)  T6 is_a T2 and is_a T4 (two parents)
//   T4 <- T6 -> T2            T7 is_a T1
// and a cellular-component one for the class labels (CC the root):
//   CC <- CYTO <- MITO (part_of) <- MITO_MATRIX (is_a);  CC <- NUCLEUS;  CC <- OTHER
const char* const kMF = "GO:0003674";
const char* const kT1 = "GO:0000001";
const char* const kT2 = "GO:0000002";
const char* const kT3 = "GO:0000003";
const char* const kT4 = "GO:0000004";
const char* const kT5 = "GO:0000005";
const char* const kT6 = "GO:0000006";
const char* const kT7 = "GO:0000007";
const char* const kCC = "GO:0005575";
const char* const kCyto = "GO:0000100";
const char* const kMito = "GO:0000101";
const char* const kMatrix = "GO:0000102";
const char* const kNucleus = "GO:0000103";
const char* const kOther = "GO:0000104";

std::string graph_text() {
  std::string g;
  for (const auto& [parent, child, relation] : std::vector<std::array<const char*, 3>>{
           {kMF, kT1, "is_a"},      {kMF, kT2, "is_a"},       {kT1, kT3, "is_a"},   {kT1, kT4, "is_a"},
           {kT2, kT5, "part_of"},   {kT2, kT6, "is_a"},       {kT4, kT6, "is_a"},   {kT1, kT7, "is_a"},
           {kCC, kCyto, "is_a"},
           {kCyto, kMito, "part_of"}, {kMito, kMatrix, "is_a"}, {kCC, kNucleus, "is_a"}, {kCC, kOther, "is_a"}})
    g += std::string(parent) + "\t" + child + "\t1\t" + relation + "\n";
  return g;
}

// The GO-transfer data set: 72 proteins in four families, family f rich in one residue and
// annotated with one leaf term (T3, T4, T5, T6), so composition separates them, and every third
// protein also with T7, which nothing in the sequence tells (so that Fmax is not 1); plus proteins
// the split leaves out: U1 (no annotation), R1 (only the root), L1 (longer than max_length 200)
// and a second record of P005. P001 also has a term the graph lacks (dropped).
struct GoData {
  int proteins = 72;
  std::string fasta, annotations;
};

GoData go_data() {
  const char* terms[] = {kT3, kT4, kT5, kT6};
  const char rich[] = {'A', 'W', 'K', 'E'};
  GoData d;
  for (int i = 0; i < d.proteins; ++i) {
    const std::string id = pid(i);
    const int family = i % 4;
    d.fasta += ">" + id + "|" + terms[family] + " protein " + std::to_string(i) + "\n" +
               protein(1000 + i, 30 + (i * 7) % 50, rich[family], 0.5) + "\n";
    d.annotations += id + "\t" + terms[family] + (i % 3 == 0 ? std::string("\t") + kT7 : "") +
                     (i == 1 ? "\tGO:9999999" : "") + "\n";
  }
  d.fasta += ">U1\n" + protein(1, 40) + "\n>R1\n" + protein(2, 40) + "\n>L1\n" + protein(3, 300, 'A', 0.5) +
             "\n>P005 again\n" + protein(4, 40) + "\n";
  d.annotations += std::string("R1\t") + kMF + "\nL1\t" + kT3 + "\n";
  return d;
}

// A model small enough to embed the GO data set in about a second.
std::string tiny_model_yaml() {
  return "run:\n  seed: 7\n"
         "model:\n  d_model: 32\n  num_heads: 2\n  d_kv: 16\n  d_ff: 48\n  encoder_layers: 2\n"
         "  decoder_layers: 1\n  relative_buckets: 8\n  relative_max_distance: 16\n  precision: fp32\n";
}

// Writes the GO data set and a go_transfer task (relative paths) into `dir`; returns the task file.
fs::path write_go_task(const fs::path& dir, const std::string& extra = "") {
  const GoData d = go_data();
  write_text(dir / "data" / "proteins.fasta", d.fasta);
  write_text(dir / "data" / "annot.dat", d.annotations);
  write_text(dir / "data" / "graph.txt", graph_text());
  write_text(dir / "go.yaml",
             "kind: go_transfer\nfasta: data/proteins.fasta\nannotations: data/annot.dat\n"
             "go_graph: data/graph.txt\nmax_length: 200\nquery_fraction: 0.25\nseed: 1\n" + extra);
  return dir / "go.yaml";
}

ProbeTask fasta_task(const fs::path& fasta, int64_t max_length = 200) {
  ProbeTask task;
  task.fasta = fasta.string();
  task.max_length = max_length;
  task.query_fraction = 0.3;
  task.file = fasta.parent_path() / "task.yaml";
  return task;
}

}  // namespace

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

// ---- the protein split -------------------------------------------------------------------------

namespace {

// 40 labelled proteins P000..P039 with `>ID|GO:...` headers, and U1 (unlabelled), L1 (labelled,
// 300 residues) and a second P005 (a duplicate).
std::string split_fasta() {
  std::string fasta;
  for (int i = 0; i < 40; ++i) {
    fasta += ">" + pid(i) + "|GO:0000001,GO:0000002 text\n" + protein(50 + i, 20 + i) + "\n";
    if (i == 10) fasta += ">U1\n" + protein(1, 30) + "\n";
    if (i == 20) fasta += ">L1|GO:0000001\n" + protein(2, 300) + "\n";
  }
  return fasta + ">P005 second record\n" + protein(3, 25) + "\n";
}

bool labelled(const std::string& id) { return id[0] == 'P' || id == "L1"; }

}  // namespace

TEST(ProteinSplit, ReadsCountsAndSplitsDeterministically) {
  ScratchDir dir;
  write_text(dir / "p.fasta", split_fasta());
  const ProbeTask task = fasta_task(dir / "p.fasta");
  const ProteinSplit split = read_protein_split(task, labelled, dir / "work");
  EXPECT_EQ(split.counts.read, 43);
  EXPECT_EQ(split.counts.unlabelled, 1);
  EXPECT_EQ(split.counts.too_long, 1);
  EXPECT_EQ(split.counts.duplicates, 1);
  EXPECT_EQ(split.lookup.size() + split.query.size(), 40u);
  EXPECT_EQ(split.lookup_candidates, static_cast<int64_t>(split.lookup.size()));
  EXPECT_EQ(split.query_candidates, static_cast<int64_t>(split.query.size()));
  EXPECT_GE(split.query.size(), 5u);  // about 30 % of 40
  EXPECT_GE(split.lookup.size(), 15u);
  EXPECT_FALSE(fs::exists(dir / "work" / "proteins.fasta"));  // a FASTA task exports nothing

  // Ids up to the first '|', in file order; the part is in_query_set's; P005 is its first record.
  std::vector<std::string> all;
  for (int i = 0; i < 40; ++i) all.push_back(pid(i));
  EXPECT_TRUE(is_subsequence(ids_of(split.lookup), all));
  EXPECT_TRUE(is_subsequence(ids_of(split.query), all));
  for (const auto& p : split.lookup) EXPECT_FALSE(in_query_set(p.id, task.query_fraction, 0)) << p.id;
  for (const auto& p : split.query) EXPECT_TRUE(in_query_set(p.id, task.query_fraction, 0)) << p.id;
  for (const auto* part : {&split.lookup, &split.query})
    for (const auto& p : *part)
      if (p.id == "P005") {
        EXPECT_EQ(p.sequence, protein(55, 25));
      }

  // The same file gives the same sets.
  const ProteinSplit again = read_protein_split(task, labelled, dir / "work");
  EXPECT_EQ(ids_of(again.lookup), ids_of(split.lookup));
  EXPECT_EQ(ids_of(again.query), ids_of(split.query));
  for (std::size_t i = 0; i < split.lookup.size(); ++i) EXPECT_EQ(again.lookup[i].sequence, split.lookup[i].sequence);

  // max_length: a limit of 300 keeps L1.
  const ProteinSplit longer = read_protein_split(fasta_task(dir / "p.fasta", 300), labelled, dir / "work");
  EXPECT_EQ(longer.counts.too_long, 0);
  EXPECT_EQ(longer.lookup.size() + longer.query.size(), 41u);
}

TEST(ProteinSplit, CapsKeepASeededSubsetInFileOrder) {
  ScratchDir dir;
  write_text(dir / "p.fasta", split_fasta());
  const ProbeTask all_task = fasta_task(dir / "p.fasta");
  const ProteinSplit all = read_protein_split(all_task, labelled, dir / "work");

  ProbeTask capped_task = all_task;
  capped_task.max_lookup = 7;
  capped_task.max_query = 2;
  const ProteinSplit capped = read_protein_split(capped_task, labelled, dir / "work");
  ASSERT_EQ(capped.lookup.size(), 7u);
  ASSERT_EQ(capped.query.size(), 2u);
  EXPECT_EQ(capped.lookup_candidates, static_cast<int64_t>(all.lookup.size()));
  EXPECT_EQ(capped.query_candidates, static_cast<int64_t>(all.query.size()));
  EXPECT_TRUE(is_subsequence(ids_of(capped.lookup), ids_of(all.lookup)));  // a subset, in file order
  EXPECT_TRUE(is_subsequence(ids_of(capped.query), ids_of(all.query)));
  const ProteinSplit capped_again = read_protein_split(capped_task, labelled, dir / "work");
  EXPECT_EQ(ids_of(capped_again.lookup), ids_of(capped.lookup));
  EXPECT_EQ(ids_of(capped_again.query), ids_of(capped.query));

  // A cap above the candidates keeps them all.
  ProbeTask loose = all_task;
  loose.max_lookup = 1000;
  EXPECT_EQ(ids_of(read_protein_split(loose, labelled, dir / "work").lookup), ids_of(all.lookup));

  // Another seed: another split and another capped subset.
  ProbeTask reseeded = capped_task;
  reseeded.seed = 12345;
  const ProteinSplit other = read_protein_split(reseeded, labelled, dir / "work");
  ASSERT_EQ(other.lookup.size(), 7u);
  EXPECT_NE(ids_of(other.lookup), ids_of(capped.lookup));
}

TEST(ProteinSplit, AnEmptyPartIsAnError) {
  ScratchDir dir;
  write_text(dir / "p.fasta", split_fasta());
  const ProbeTask task = fasta_task(dir / "p.fasta");
  const auto none = [](const std::string&) { return false; };
  std::string e = error_of<InputError>([&] { read_protein_split(task, none, dir.path()); });
  EXPECT_TRUE(contains(e, "the split leaves no lookup proteins (43 read, 43 unlabelled")) << e;
  EXPECT_TRUE(contains(e, task.file.string())) << e;

  // A single labelled protein lands in one part only.
  const auto one = [](const std::string& id) { return id == "P000"; };
  e = error_of<InputError>([&] { read_protein_split(task, one, dir.path()); });
  EXPECT_TRUE(contains(e, "the split leaves no")) << e;

  write_text(dir / "bad.fasta", ">P1\nACDE1FG\n");
  e = error_of<InputError>([&] { read_protein_split(fasta_task(dir / "bad.fasta"), labelled, dir.path()); });
  EXPECT_TRUE(contains(e, "bad.fasta:2")) << e;
}

TEST(ProteinSplit, ABlastDatabaseReadsTheSameProteinsAsItsFasta) {
  if (!have_blast()) GTEST_SKIP() << "NCBI BLAST+ is not installed (apt-get install ncbi-blast+; scripts/setup.sh)";
  ScratchDir dir;
  // The FASTA as makeblastdb wants it (upper case, no duplicates): the database keeps every record.
  write_text(dir / "db dir" / "p.fasta", split_fasta());
  make_blast_db(dir / "db dir" / "p.fasta", dir / "db dir" / "proteins");
  ProbeTask db_task = fasta_task(dir / "db dir" / "p.fasta");
  db_task.fasta.clear();
  db_task.blastdb = (dir / "db dir" / "proteins").string();
  db_task.max_lookup = 10;
  ProbeTask fasta = fasta_task(dir / "db dir" / "p.fasta");
  fasta.max_lookup = 10;

  const ProteinSplit from_db = read_protein_split(db_task, labelled, dir / "work dir");
  const ProteinSplit from_fasta = read_protein_split(fasta, labelled, dir / "work dir");
  EXPECT_TRUE(fs::exists(dir / "work dir" / "proteins.fasta"));
  EXPECT_EQ(from_db.counts.read, from_fasta.counts.read);
  EXPECT_EQ(from_db.counts.unlabelled, from_fasta.counts.unlabelled);
  EXPECT_EQ(from_db.counts.too_long, from_fasta.counts.too_long);
  EXPECT_EQ(from_db.counts.duplicates, from_fasta.counts.duplicates);
  EXPECT_EQ(ids_of(from_db.lookup), ids_of(from_fasta.lookup));
  EXPECT_EQ(ids_of(from_db.query), ids_of(from_fasta.query));
  for (std::size_t i = 0; i < from_db.lookup.size(); ++i)
    EXPECT_EQ(from_db.lookup[i].sequence, from_fasta.lookup[i].sequence);
  for (std::size_t i = 0; i < from_db.query.size(); ++i)
    EXPECT_EQ(from_db.query[i].sequence, from_fasta.query[i].sequence);
}

// ---- features and sources ----------------------------------------------------------------------

TEST(ProbeFeatures, CompositionAndDipeptideFrequencies) {
  // Columns follow ACDEFGHIKLMNPQRSTVWY: A 0, C 1, D 2, W 18, Y 19.
  const std::vector<Protein> proteins = {{"a", "AACW"}, {"b", "AXBA"}, {"c", ""}, {"d", "Y"}, {"e", "ACAC"}};
  const torch::Tensor c = composition_features(proteins);
  ASSERT_EQ(c.sizes(), (std::vector<int64_t>{5, 20}));
  EXPECT_EQ(c.dtype(), torch::kFloat32);
  auto expected = torch::zeros({5, 20});
  expected[0][0] = 0.5;
  expected[0][1] = 0.25;
  expected[0][18] = 0.25;
  expected[1][0] = 0.5;  // X and B count in no column (over all 4 residues)
  expected[3][19] = 1.0;
  expected[4][0] = 0.5;
  expected[4][1] = 0.5;
  EXPECT_TRUE(torch::equal(c, expected)) << c;
  for (const int64_t row : {0, 3, 4}) EXPECT_FLOAT_EQ(c[row].sum().item<float>(), 1.0F);

  const torch::Tensor d = dipeptide_features(proteins);
  ASSERT_EQ(d.sizes(), (std::vector<int64_t>{5, 400}));
  auto pairs = torch::zeros({5, 400});
  pairs[0][0 * 20 + 0] = 1.0 / 3;  // AA, AC, CW
  pairs[0][0 * 20 + 1] = 1.0 / 3;
  pairs[0][1 * 20 + 18] = 1.0 / 3;
  // AXBA: AX, XB, BA hold a non-standard residue: nothing counts.
  pairs[4][0 * 20 + 1] = 2.0 / 3;  // AC, CA, AC
  pairs[4][1 * 20 + 0] = 1.0 / 3;
  EXPECT_TRUE(torch::allclose(d, pairs, 0, 1e-7)) << d.nonzero();
  EXPECT_NEAR(d[0].sum().item<float>(), 1.0F, 1e-6);
  EXPECT_NEAR(d[4].sum().item<float>(), 1.0F, 1e-6);
}

TEST(ProbeSource, ParsesBaselinesAndModelDirectories) {
  ScratchDir dir;
  EXPECT_EQ(parse_probe_source("baseline:composition").kind, SourceKind::Composition);
  EXPECT_EQ(parse_probe_source("baseline:dipeptide").kind, SourceKind::Dipeptide);
  write_text(dir / "tiny.yaml", tiny_model_yaml());
  const ProbeSource random = parse_probe_source("baseline:random-init:" + (dir / "tiny.yaml").string());
  EXPECT_EQ(random.kind, SourceKind::RandomInit);
  EXPECT_EQ(random.path, dir / "tiny.yaml");
  EXPECT_EQ(random.text, "baseline:random-init:" + (dir / "tiny.yaml").string());
  const ProbeSource model = parse_probe_source(dir.path().string());
  EXPECT_EQ(model.kind, SourceKind::Model);
  EXPECT_EQ(model.path, dir.path());

  std::string e = error_of<UsageError>([] { parse_probe_source("baseline:compostion"); });
  EXPECT_TRUE(contains(e, "unknown baseline 'compostion'")) << e;
  e = error_of<UsageError>([&] { parse_probe_source("baseline:random-init:" + (dir / "none.yaml").string()); });
  EXPECT_TRUE(contains(e, "no such config file")) << e;
  e = error_of<UsageError>([&] { parse_probe_source((dir / "no-such-run").string()); });
  EXPECT_TRUE(contains(e, "no such model directory")) << e;
}

TEST(ProbeFeatures, RandomInitFeaturesAreCachedPerModelDtypeAndProteins) {
  ScratchDir dir;
  write_text(dir / "tiny.yaml", tiny_model_yaml());
  const ProbeSource source = parse_probe_source("baseline:random-init:" + (dir / "tiny.yaml").string());
  std::vector<Protein> proteins = {{"a", protein(1, 30)}, {"b", protein(2, 12)}, {"c", protein(3, 50)}};
  const fs::path cache = dir / "out" / "features.safetensors";
  FeatureOptions options;

  const Features first = protein_features(source, proteins, options, cache);
  EXPECT_FALSE(first.cached);
  ASSERT_EQ(first.values.sizes(), (std::vector<int64_t>{3, 32}));
  EXPECT_EQ(first.values.dtype(), torch::kFloat32);
  EXPECT_TRUE(contains(first.description, "seed 7")) << first.description;
  EXPECT_TRUE(fs::exists(cache));
  // Each protein's features do not depend on the others it is batched with.
  const Features alone = protein_features(source, {proteins[1]}, options, {});
  EXPECT_TRUE(torch::allclose(alone.values[0], first.values[1], 1e-5, 1e-5));

  const Features second = protein_features(source, proteins, options, cache);
  EXPECT_TRUE(second.cached);
  EXPECT_EQ(second.seconds, 0);
  EXPECT_TRUE(torch::equal(second.values, first.values));
  EXPECT_EQ(second.description, first.description);

  proteins[2].sequence[0] = proteins[2].sequence[0] == 'A' ? 'C' : 'A';  // other proteins: recomputed
  EXPECT_FALSE(protein_features(source, proteins, options, cache).cached);
  EXPECT_TRUE(protein_features(source, proteins, options, cache).cached);

  options.dtype = torch::kBFloat16;  // another compute dtype: recomputed, not the fp32 features
  const Features bf16 = protein_features(source, proteins, options, cache);
  EXPECT_FALSE(bf16.cached);
  EXPECT_EQ(bf16.values.dtype(), torch::kFloat32);
}

// ---- run_probe end to end ----------------------------------------------------------------------

namespace {

nlohmann::json recompute_fmax(const fs::path& out, const ProbeTask& task) {
  const auto script = ankh::testing::source_dir() / "tests" / "probe" / "recompute_fmax.py";
  const auto q = [](const fs::path& p) { return "'" + p.string() + "'"; };
  const auto r = ankh::testing::run_command("/usr/bin/python3 " + q(script) + " " + q(out / "predictions.tsv") + " " +
                                            q(out / "queries.txt") + " " + q(task.annotations) + " " + q(task.go_graph));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const auto json = nlohmann::json::parse(r.output, nullptr, false);
  EXPECT_FALSE(json.is_discarded()) << r.output;
  return json.is_discarded() ? nlohmann::json{{"fmax", -1}, {"threshold", -1}, {"coverage", -1}, {"queries", -1}}
                             : json;
}

// Checks what a go_transfer run wrote, and its Fmax against the independent recomputation.
void check_go_outputs(const ProbeRunOptions& o, const ProbeRunResult& r, bool blast) {
  const nlohmann::json& results = r.results;
  EXPECT_EQ(read_probe_results(o.output / "results.json"), results);
  ASSERT_TRUE(results.contains("source"));
  ASSERT_TRUE(results.contains("naive"));
  EXPECT_EQ(results.contains("blast"), blast);
  ASSERT_TRUE(results.contains("probe"));
  for (const char* method : {"source", "naive"})
    for (const char* key : {"fmax", "threshold", "precision", "recall", "coverage", "queries"})
      EXPECT_TRUE(results[method].contains(key)) << method << " " << key;

  const auto& probe = results["probe"];
  EXPECT_EQ(probe["task"], o.task.name);
  EXPECT_EQ(probe["kind"], "go_transfer");
  EXPECT_EQ(probe["source"], o.source.text);
  EXPECT_EQ(probe["proteins_read"], 76);
  EXPECT_EQ(probe["left_out"]["unlabelled"], 2);  // U1, R1 (only the root)
  EXPECT_EQ(probe["left_out"]["too_long"], 1);    // L1
  EXPECT_EQ(probe["left_out"]["duplicates"], 1);  // P005's second record
  if (o.task.max_lookup == 0 && o.task.max_query == 0) {
    EXPECT_EQ(probe["lookup"].get<int64_t>() + probe["query"].get<int64_t>(), 72);
  }
  EXPECT_TRUE(contains(probe["task_config"].get<std::string>(), "kind: go_transfer"));
  for (const char* key : {"features", "probe", "baselines"}) EXPECT_TRUE(probe["seconds"].contains(key)) << key;

  const auto queries = lines_of(ankh::core::read_file(o.output / "queries.txt"));
  EXPECT_EQ(static_cast<int64_t>(queries.size()), probe["query"].get<int64_t>());
  EXPECT_EQ(results["source"]["queries"].get<int64_t>(), static_cast<int64_t>(queries.size()));
  const auto predictions = lines_of(ankh::core::read_file(o.output / "predictions.tsv"));
  ASSERT_FALSE(predictions.empty());
  EXPECT_EQ(predictions[0], "query_id\tterm\tscore");
  const std::set<std::string> query_set(queries.begin(), queries.end());
  for (std::size_t i = 1; i < predictions.size(); ++i) {
    const auto tab = predictions[i].find('\t');
    ASSERT_NE(tab, std::string::npos) << predictions[i];
    EXPECT_TRUE(query_set.count(predictions[i].substr(0, tab))) << predictions[i];
  }
  EXPECT_TRUE(fs::exists(o.output / "results.md"));

  const nlohmann::json recomputed = recompute_fmax(o.output, o.task);
  EXPECT_NEAR(recomputed["fmax"].get<double>(), results["source"]["fmax"].get<double>(), 1e-6) << recomputed;
  EXPECT_NEAR(recomputed["threshold"].get<double>(), results["source"]["threshold"].get<double>(), 1e-6) << recomputed;
  for (const char* key : {"precision", "recall", "coverage"})
    EXPECT_NEAR(recomputed[key].get<double>(), results["source"][key].get<double>(), 1e-9) << key << " " << recomputed;
  EXPECT_EQ(recomputed["queries"], results["source"]["queries"]);
}

}  // namespace

TEST(ProbeRun, GoTransferFromARandomInitModelIsCachedAndRecomputable) {
  ScratchDir dir;
  // k 5: the farther neighbours' terms score lower, so Fmax's threshold is not 0 (0.19 here).
  write_text(dir / "tiny.yaml", tiny_model_yaml());
  ProbeRunOptions o;
  o.task = load_probe_task(write_go_task(dir.path(), "k: 5\n"));
  o.source = parse_probe_source("baseline:random-init:" + (dir / "tiny.yaml").string());
  o.output = dir / "out";
  o.blast = false;
  const ProbeRunResult first = run_probe(o);
  check_go_outputs(o, first, false);
  EXPECT_FALSE(first.results["probe"]["features_cached"].get<bool>());
  EXPECT_EQ(first.results["probe"]["dimensions"], 32);
  EXPECT_TRUE(fs::exists(o.output / "features.safetensors"));

  const ProbeRunResult second = run_probe(o);
  EXPECT_TRUE(second.results["probe"]["features_cached"].get<bool>());
  EXPECT_EQ(second.feature_seconds, 0);
  EXPECT_EQ(second.results["source"], first.results["source"]);
  EXPECT_EQ(second.results["naive"], first.results["naive"]);
  check_go_outputs(o, second, false);
}

TEST(ProbeRun, GoTransferFromCompositionBeatsTheNaiveBaseline) {
  ScratchDir dir;
  ProbeRunOptions o;
  o.task = load_probe_task(write_go_task(dir.path()), {"max_query=10"});
  o.source = parse_probe_source("baseline:composition");
  o.output = dir / "out dir";
  o.blast = have_blast();
  const ProbeRunResult r = run_probe(o);
  check_go_outputs(o, r, o.blast);
  EXPECT_EQ(r.results["probe"]["query"], 10);
  EXPECT_EQ(r.results["probe"]["dimensions"], 20);
  // Families differ by composition: the nearest neighbour is of the query's family (T7 is chance).
  EXPECT_GT(r.results["source"]["fmax"].get<double>(), 0.8);
  EXPECT_GT(r.results["source"]["fmax"].get<double>(), r.results["naive"]["fmax"].get<double>() + 0.2);
  const std::string md = ankh::core::read_file(o.output / "results.md");
  EXPECT_TRUE(contains(md, "| source |")) << md;
  EXPECT_TRUE(contains(md, "| naive |")) << md;
}

TEST(ProbeRun, ClassificationFromLabelsOnComposition) {
  ScratchDir dir;
  std::string fasta, labels;
  for (int i = 0; i < 80; ++i) {
    const bool alanine = i % 2 == 0;
    const std::string id = "C" + std::to_string(i);
    fasta += ">" + id + "\n" + protein(500 + i, 40 + i % 30, alanine ? 'A' : 'W', 0.4) + "\n";
    labels += id + "\t" + (alanine ? "alanine_rich" : "tryptophan_rich") + "\n";
  }
  fasta += ">unlabelled\n" + protein(9, 40) + "\n";
  write_text(dir / "in" / "p.fasta", fasta);
  write_text(dir / "in" / "labels.tsv", labels);
  write_text(dir / "in" / "rich.yaml",
             "kind: classification\nfasta: p.fasta\nlabels: labels.tsv\nquery_fraction: 0.3\nbootstrap: 100\n");
  ProbeRunOptions o;
  o.task = load_probe_task(dir / "in" / "rich.yaml");
  o.source = parse_probe_source("baseline:composition");
  o.output = dir / "out";
  const ProbeRunResult r = run_probe(o);
  const auto& results = r.results;
  EXPECT_EQ(read_probe_results(o.output / "results.json"), results);
  ASSERT_TRUE(results.contains("source"));
  ASSERT_TRUE(results.contains("majority"));
  EXPECT_GE(results["source"]["accuracy"].get<double>(), 0.95) << results["source"];
  EXPECT_GE(results["source"]["macro_f1"].get<double>(), 0.95) << results["source"];
  EXPECT_LT(results["majority"]["accuracy"].get<double>(), 0.8) << results["majority"];
  EXPECT_EQ(results["source"]["accuracy_ci"].size(), 2u);
  EXPECT_EQ(results["probe"]["classes"].get<std::vector<std::string>>(),
            (std::vector<std::string>{"alanine_rich", "tryptophan_rich"}));
  EXPECT_EQ(results["probe"]["kind"], "classification");
  EXPECT_EQ(results["probe"]["left_out"]["unlabelled"], 1);
  EXPECT_EQ(results["probe"]["lookup"].get<int64_t>() + results["probe"]["query"].get<int64_t>(), 80);
  EXPECT_EQ(results["source"]["proteins"], results["probe"]["query"]);
  EXPECT_FALSE(fs::exists(o.output / "predictions.tsv"));
  const std::string md = ankh::core::read_file(o.output / "results.md");
  EXPECT_TRUE(contains(md, "| source |")) << md;
  EXPECT_TRUE(contains(md, "| majority |")) << md;
  EXPECT_TRUE(contains(md, "accuracy")) << md;
}
