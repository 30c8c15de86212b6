// kind: go_transfer. goPredSim's annotation transfer from SOURCE's embeddings, and CAFA's naive
// and BLAST baselines on the same lookup and query proteins, all scored by Fmax.
#include <cstdio>
#include <fstream>

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/files.h"
#include "core/timer.h"
#include "trainer/probe/blast_baseline.h"
#include "trainer/probe/go_annotations.h"
#include "trainer/probe/go_transfer.h"
#include "trainer/probe/probe_parts.h"

namespace ankh::probe {

namespace fs = std::filesystem;

namespace {

nlohmann::json fmax_json(const FmaxResult& r) {
  return {{"fmax", r.fmax},     {"threshold", r.threshold}, {"precision", r.precision},
          {"recall", r.recall}, {"coverage", r.coverage},   {"queries", r.queries}};
}

std::vector<TermSet> terms_of(const std::vector<Protein>& proteins, const Annotations& annotations) {
  std::vector<TermSet> terms;
  terms.reserve(proteins.size());
  for (const auto& p : proteins) terms.push_back(annotations.terms.at(p.id));
  return terms;
}

// Whether a protein has a term besides the roots (a protein with only a root says nothing).
bool informative(const TermSet& terms, const GoGraph& graph) {
  for (const TermId t : terms)
    if (!graph.is_root(t)) return true;
  return false;
}

// 9 significant digits: a float32 reads back as the same float, so a recomputation of Fmax from
// predictions.tsv compares every score with every threshold exactly as ankh did.
std::string float_text(float v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", static_cast<double>(v));
  return text;
}

// predictions.tsv and queries.txt: enough to recompute Fmax without ankh.
void write_predictions(const fs::path& dir, const GoGraph& graph, const std::vector<Protein>& queries,
                       const std::vector<Prediction>& predictions) {
  std::string tsv = "query_id\tterm\tscore\n";
  std::string ids;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    ids += queries[q].id + "\n";
    for (const auto& [term, score] : predictions[q])
      tsv += queries[q].id + "\t" + graph.name(term) + "\t" + float_text(score) + "\n";
  }
  core::write_file_atomic(dir / "predictions.tsv", tsv);
  core::write_file_atomic(dir / "queries.txt", ids);
}

class GoTransferProbe final : public PreparedProbe {
 public:
  GoTransferProbe(const ProbeTask& task, GoGraph graph, const Annotations& annotations, ProteinSplit split)
      : PreparedProbe(task, std::move(split)), graph_(std::move(graph)) {
    lookup_terms_ = terms_of(this->split().lookup, annotations);
    truth_ = terms_of(this->split().query, annotations);
  }

  ProbeScores score(const torch::Tensor& lookup, const torch::Tensor& query, const ScoreOptions& o) const override {
    ProbeScores s;
    core::Stopwatch fit_watch;
    TransferOptions transfer;
    transfer.k = task().k;
    transfer.distance = task().distance;
    const auto predictions = transfer_annotations(lookup, query, lookup_terms_, transfer);
    s.results["source"] = fmax_json(fmax(graph_, predictions, truth_));
    s.fit_seconds = fit_watch.seconds();
    if (!o.output.empty()) write_predictions(o.output, graph_, split().query, predictions);
    if (!o.baselines) return s;

    core::Stopwatch baseline_watch;
    const std::vector<Prediction> naive(split().query.size(), naive_prediction(lookup_terms_));
    s.results["naive"] = fmax_json(fmax(graph_, naive, truth_));
    if (o.blast) {
      BlastOptions blast;
      blast.work_dir = o.output / "work" / "blast";
      blast.threads = o.threads;
      const auto hits = blast_best_hits(split().lookup, split().query, blast);
      s.results["blast"] = fmax_json(fmax(graph_, transfer_best_hits(hits, lookup_terms_), truth_));
    }
    s.baseline_seconds = baseline_watch.seconds();
    return s;
  }

 private:
  GoGraph graph_;
  std::vector<TermSet> lookup_terms_, truth_;
};

}  // namespace

std::unique_ptr<PreparedProbe> prepare_go_transfer(const ProbeTask& task, const fs::path& work_dir) {
  GoGraph graph = GoGraph::load(task.go_graph);
  Annotations annotations = read_annotations(task.annotations, graph);
  if (annotations.unknown_terms > 0)
    spdlog::warn("{}: {} annotations name terms the GO graph lacks (e.g. {}); they are left out", task.annotations,
                 annotations.unknown_terms, annotations.example_unknown);
  propagate_all(annotations, graph);
  const auto keep = [&](const std::string& id) {
    const auto it = annotations.terms.find(id);
    return it != annotations.terms.end() && informative(it->second, graph);
  };
  ProteinSplit split = read_protein_split(task, keep, work_dir);
  spdlog::info("{}: {} lookup and {} query proteins (of {} and {} annotated candidates)", task.name,
               split.lookup.size(), split.query.size(), split.lookup_candidates, split.query_candidates);
  return std::make_unique<GoTransferProbe>(task, std::move(graph), annotations, std::move(split));
}

}  // namespace ankh::probe
