// kind: classification. A linear probe (standardised features, multinomial logistic regression,
// L2 penalty chosen on a validation part) on SOURCE's per-protein features, scored on the test
// proteins next to the majority-class baseline, with 95 % bootstrap intervals.
#include <spdlog/spdlog.h>

#include "core/hash.h"
#include "core/timer.h"
#include "trainer/probe/class_labels.h"
#include "trainer/probe/class_metrics.h"
#include "trainer/probe/linear_probe.h"
#include "trainer/probe/probe_parts.h"

namespace ankh::probe {

namespace {

nlohmann::json metrics_json(const ClassificationMetrics& m) {
  return {{"accuracy", m.accuracy},
          {"accuracy_ci", {m.accuracy_ci.lower, m.accuracy_ci.upper}},
          {"macro_f1", m.macro_f1},
          {"macro_f1_ci", {m.macro_f1_ci.lower, m.macro_f1_ci.upper}},
          {"proteins", m.n}};
}

std::vector<int64_t> labels_of(const std::vector<Protein>& proteins, const ClassLabels& labels) {
  std::vector<int64_t> y;
  y.reserve(proteins.size());
  for (const auto& p : proteins) y.push_back(labels.label.at(p.id));
  return y;
}

std::vector<std::string> ids_of(const std::vector<Protein>& proteins) {
  std::vector<std::string> ids;
  ids.reserve(proteins.size());
  for (const auto& p : proteins) ids.push_back(p.id);
  return ids;
}

class ClassificationProbe final : public PreparedProbe {
 public:
  ClassificationProbe(const ProbeTask& task, const ClassLabels& labels, ProteinSplit split)
      : PreparedProbe(task, std::move(split)), classes_(labels.names) {
    y_train_ = labels_of(this->split().lookup, labels);
    y_test_ = labels_of(this->split().query, labels);
    ids_ = ids_of(this->split().lookup);
  }

  ProbeScores score(const torch::Tensor& lookup, const torch::Tensor& query, const ScoreOptions& o) const override {
    ProbeScores s;
    const auto classes = static_cast<int64_t>(classes_.size());
    core::Stopwatch fit_watch;
    ProbeOptions fit;
    fit.validation_fraction = task().valid_fraction;
    // A stream of its own: the query split hashes the ids with the seed itself, and the same hash
    // would put every validation candidate among the queries.
    fit.split_seed = core::hash_words(static_cast<uint64_t>(task().seed), 0x7A11DA7EULL);
    const ProbeFit probe = fit_probe(lookup, torch::tensor(y_train_, torch::kInt64), ids_, classes, fit);
    BootstrapOptions bootstrap;
    bootstrap.resamples = task().bootstrap;
    bootstrap.seed = static_cast<uint64_t>(task().seed);
    const auto predicted = to_label_vector(probe.predict(query));
    s.results["source"] = metrics_json(classification_metrics(y_test_, predicted, classes, bootstrap));
    s.results["source"]["lambda"] = probe.lambda;
    s.results["source"]["converged"] = probe.final_fit.converged;
    s.fit_seconds = fit_watch.seconds();
    if (o.baselines) s.results["majority"] = metrics_json(majority_baseline(y_train_, y_test_, classes, bootstrap));
    return s;
  }
  nlohmann::json details() const override { return {{"classes", classes_}}; }

 private:
  std::vector<std::string> classes_;
  std::vector<int64_t> y_train_, y_test_;
  std::vector<std::string> ids_;
};

}  // namespace

std::unique_ptr<PreparedProbe> prepare_classification(const ProbeTask& task, const std::filesystem::path& work_dir) {
  const ClassLabels labels = read_class_labels(task);
  if (labels.ambiguous > 0)
    spdlog::info("{}: {} proteins in two unrelated classes are left out", task.name, labels.ambiguous);
  const auto keep = [&](const std::string& id) { return labels.label.count(id) != 0; };
  ProteinSplit split = read_protein_split(task, keep, work_dir);
  spdlog::info("{}: {} training and {} test proteins in {} classes", task.name, split.lookup.size(),
               split.query.size(), labels.names.size());
  return std::make_unique<ClassificationProbe>(task, labels, std::move(split));
}

}  // namespace ankh::probe
