// Shared fixtures of the probe tests (probe_task_test, probe_split_test, probe_run_test): tiny
// proteins, a hand-made ontology, a GO-transfer data set and task files written to a scratch dir.
#pragma once

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
using namespace ankh::probe;  // NOLINT: test fixtures
using ankh::core::ConfigError;
using ankh::core::InputError;
using ankh::core::UsageError;
using ankh::testing::error_of;
using ankh::testing::ScratchDir;
using ankh::testing::write_text;
namespace fs = std::filesystem;

namespace ankh::probe::probe_testing {

inline constexpr const char* kAminoAcids = "ACDEFGHIKLMNPQRSTVWY";

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

inline bool have_blast() {
  for (const char* program : {"makeblastdb", "blastp", "blastdbcmd"})
    if (!ankh::core::find_program(program)) return false;
  return true;
}

// `length` residues, each `rich` with probability `share`, otherwise uniform over the 20.
inline std::string protein(uint64_t seed, std::size_t length, char rich = 0, double share = 0) {
  ankh::core::SplitMix64 rng(seed);
  std::string s;
  for (std::size_t i = 0; i < length; ++i) s += rich && rng.uniform() < share ? rich : kAminoAcids[rng.below(20)];
  return s;
}

// "P007".
inline std::string pid(int i) {
  char id[16];
  std::snprintf(id, sizeof id, "P%03d", i);
  return id;
}

inline std::vector<std::string> ids_of(const std::vector<Protein>& proteins) {
  std::vector<std::string> ids;
  for (const auto& p : proteins) ids.push_back(p.id);
  return ids;
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Whether `part` appears in `whole` in the same relative order.
inline bool is_subsequence(const std::vector<std::string>& part, const std::vector<std::string>& whole) {
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

inline std::string graph_text() {
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

inline GoData go_data() {
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
inline std::string tiny_model_yaml() {
  return "run:\n  seed: 7\n"
         "model:\n  d_model: 32\n  num_heads: 2\n  d_kv: 16\n  d_ff: 48\n  encoder_layers: 2\n"
         "  decoder_layers: 1\n  relative_buckets: 8\n  relative_max_distance: 16\n  precision: fp32\n";
}

// Writes the GO data set and a go_transfer task (relative paths) into `dir`; returns the task file.
inline fs::path write_go_task(const fs::path& dir, const std::string& extra = "") {
  const GoData d = go_data();
  write_text(dir / "data" / "proteins.fasta", d.fasta);
  write_text(dir / "data" / "annot.dat", d.annotations);
  write_text(dir / "data" / "graph.txt", graph_text());
  write_text(dir / "go.yaml",
             "kind: go_transfer\nfasta: data/proteins.fasta\nannotations: data/annot.dat\n"
             "go_graph: data/graph.txt\nmax_length: 200\nquery_fraction: 0.25\nseed: 1\n" + extra);
  return dir / "go.yaml";
}

inline ProbeTask fasta_task(const fs::path& fasta, int64_t max_length = 200) {
  ProbeTask task;
  task.fasta = fasta.string();
  task.max_length = max_length;
  task.query_fraction = 0.3;
  task.file = fasta.parent_path() / "task.yaml";
  return task;
}

}  // namespace ankh::probe::probe_testing

using namespace ankh::probe::probe_testing;  // NOLINT: test fixtures
