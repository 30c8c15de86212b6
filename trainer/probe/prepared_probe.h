// A probe task made ready to score features: its labels read, its proteins read and split. Kept
// apart from the features so that `ankh probe` (features of a checkpoint or a baseline) and
// training (`train.probe_every`: features of the live model, embedded by every rank) score the
// same way, and a training run reads the task's files once, not at every probe.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "trainer/probe/probe_task.h"
#include "trainer/probe/protein_set.h"

namespace ankh::probe {

struct ScoreOptions {
  std::filesystem::path output;  // go_transfer: predictions.tsv and queries.txt go here; BLAST's work dir
  bool baselines = true;         // the task's own baselines (naive and BLAST; majority)
  bool blast = true;             // go_transfer: the BLAST baseline (needs ncbi-blast+)
  int threads = 1;               // BLAST's threads
};

struct ProbeScores {
  nlohmann::json results;       // {"source": {...}, "<baseline>": {...}}
  double fit_seconds = 0;       // the probe on the source's features
  double baseline_seconds = 0;  // the task's baselines
};

class PreparedProbe {
 public:
  virtual ~PreparedProbe() = default;
  const ProbeTask& task() const { return task_; }
  // Lookup (training) proteins, then queries (test): the rows that score() takes.
  const ProteinSplit& split() const { return split_; }
  // Scores per-protein features: `lookup` [lookup, D] and `query` [query, D], float32, CPU.
  virtual ProbeScores score(const torch::Tensor& lookup, const torch::Tensor& query,
                            const ScoreOptions& options) const = 0;
  // What results.json says of the task beyond its settings (classification: the class names).
  virtual nlohmann::json details() const { return nlohmann::json::object(); }

 protected:
  PreparedProbe(ProbeTask task, ProteinSplit split) : task_(std::move(task)), split_(std::move(split)) {}

 private:
  ProbeTask task_;
  ProteinSplit split_;
};

// Reads the task's labels and proteins (the BLAST database's export goes to `work_dir`).
std::unique_ptr<PreparedProbe> prepare_probe(const ProbeTask& task, const std::filesystem::path& work_dir);

// The metrics kept for summaries and `probe` records: fmax and coverage, or accuracy and
// macro_f1, of one method of a results object ({} when the method is absent).
std::map<std::string, double> headline_metrics(const nlohmann::json& results, const std::string& method);

}  // namespace ankh::probe
