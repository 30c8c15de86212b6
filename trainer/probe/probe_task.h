// A probe task file (configs/probes/*.yaml): which proteins, which labels, how they are split and
// what is reported. Read strictly like every ankh config: unknown keys (with the nearest valid
// key suggested), wrong types and out-of-range values are all reported at once, naming file:line.
//
//   kind: go_transfer                 # or classification
//   blastdb: /usr/share/metastudent-data/dataset_201401/MFO/goasp.fasta   # or fasta: FILE
//   annotations: .../MFO/goasp_annot.dat
//   go_graph: .../goGraph.txt
//   query_fraction: 0.1               # held-out part (queries; for classification the test set)
//   max_lookup: 3000                  # the rest, capped (lookup set; classification: training)
//   max_query: 300
//   classes: {nucleus: GO:0005634, ...}   # classification from GO (or labels: id<TAB>label TSV)
//
// Relative paths are relative to the task file. docs/probes.md describes every key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/choices.h"
#include "core/config_fields.h"
#include "core/config_source.h"
#include "core/error.h"
#include "trainer/probe/go_transfer.h"

namespace ankh::probe {

enum class ProbeKind { GoTransfer, Classification };
const core::Choices<ProbeKind>& probe_kinds();  // go_transfer | classification

struct ProbeTask {
  ProbeKind kind = ProbeKind::GoTransfer;
  std::string name;  // default: the task file's name without .yaml

  // Proteins: exactly one of a FASTA file and a BLAST database (read with blastdbcmd). A
  // protein's id is its header's first word up to the first '|'.
  std::string fasta;
  std::string blastdb;
  int64_t max_length = 1000;  // longer proteins are left out (residues)

  // Labels: GO annotations (id<TAB>GO:...<TAB>...) propagated over go_graph's is_a and part_of
  // edges; for classification either those with `classes`, or `labels` (id<TAB>label).
  std::string annotations;
  std::string go_graph;
  std::string labels;
  std::map<std::string, std::string> classes;  // class name -> GO term

  // Split by a hash of the id: query_fraction of the labelled proteins are queries (test set),
  // the others the lookup (training) set; each capped by a seeded uniform choice.
  double query_fraction = 0.1;
  int64_t seed = 0;
  int64_t max_lookup = 0;  // 0: all
  int64_t max_query = 0;   // 0: all

  // go_transfer: terms of the k nearest lookup proteins.
  int64_t k = 1;
  Distance distance = Distance::Euclidean;

  // classification: the L2 penalty is chosen on valid_fraction of the training part.
  double valid_fraction = 0.2;
  int64_t bootstrap = 1000;  // resamples of the 95 % interval

  std::filesystem::path file;  // where the task was read from

  void visit(core::FieldVisitor& v);
  void validate(core::IssueList& issues) const;
};

// Reads and validates a task file; `overrides` are key=value assignments (command line).
// ConfigError listing every problem.
ProbeTask load_probe_task(const std::filesystem::path& file, const std::vector<std::string>& overrides = {});

// The task as YAML (results.json keeps it, so a result says what it measured).
std::string task_yaml(const ProbeTask& task);

}  // namespace ankh::probe
