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

}  // namespace

ProbeRunResult run_classification(const ProbeRunOptions& o) {
  const ProbeTask& task = o.task;
  const ClassLabels labels = read_class_labels(task);
  if (labels.ambiguous > 0)
    spdlog::info("{}: {} proteins in more than one class are left out", task.name, labels.ambiguous);
  const auto keep = [&](const std::string& id) { return labels.label.count(id) != 0; };
  const ProteinSplit split = read_protein_split(task, keep, o.output / "work");
  spdlog::info("{}: {} training and {} test proteins in {} classes", task.name, split.lookup.size(),
               split.query.size(), labels.names.size());
  const auto y_train = labels_of(split.lookup, labels), y_test = labels_of(split.query, labels);
  const auto classes = static_cast<int64_t>(labels.names.size());

  ProbeRunResult r;
  const SplitFeatures f = split_features(o, split);
  r.feature_seconds = f.features.seconds;

  core::Stopwatch fit_watch;
  ProbeOptions fit;
  fit.validation_fraction = task.valid_fraction;
  // A stream of its own: the query split hashes the ids with the seed itself, and the same hash
  // would put every validation candidate among the queries.
  fit.split_seed = core::hash_words(static_cast<uint64_t>(task.seed), 0x7A11DA7EULL);
  const ProbeFit probe =
      fit_probe(f.lookup, torch::tensor(y_train, torch::kInt64), ids_of(split.lookup), classes, fit);
  BootstrapOptions bootstrap;
  bootstrap.resamples = task.bootstrap;
  bootstrap.seed = static_cast<uint64_t>(task.seed);
  const auto predicted = to_label_vector(probe.predict(f.query));
  r.results["source"] = metrics_json(classification_metrics(y_test, predicted, classes, bootstrap));
  r.results["source"]["lambda"] = probe.lambda;
  r.results["source"]["converged"] = probe.final_fit.converged;
  r.fit_seconds = fit_watch.seconds();

  r.results["majority"] = metrics_json(majority_baseline(y_train, y_test, classes, bootstrap));
  r.results["probe"] = probe_description(o, split, f.features);
  r.results["probe"]["classes"] = labels.names;
  return r;
}

}  // namespace ankh::probe
