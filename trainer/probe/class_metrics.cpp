#include "trainer/probe/class_metrics.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/hash.h"

namespace ankh::probe {
namespace {

constexpr const char* kWhere = "classification metrics";

void check_labels(const std::vector<int64_t>& labels, const char* name, int64_t num_classes) {
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= num_classes)
      throw core::InputError(std::string(name) + "[" + std::to_string(i) + "] = " + std::to_string(labels[i]) +
                                 " outside [0, " + std::to_string(num_classes) + ")",
                             kWhere, "labels must be class ids 0 .. C-1 of the same class list");
}

void check_inputs(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred, int64_t num_classes) {
  if (num_classes < 1)
    throw core::InputError("number of classes is " + std::to_string(num_classes), kWhere, "it must be at least 1");
  if (y_true.size() != y_pred.size())
    throw core::InputError(std::to_string(y_true.size()) + " true labels but " + std::to_string(y_pred.size()) +
                               " predictions", kWhere, "score one prediction per test protein");
  if (y_true.empty())
    throw core::InputError("no test proteins", kWhere, "metrics need at least one labelled test protein");
  check_labels(y_true, "y_true", num_classes);
  check_labels(y_pred, "y_pred", num_classes);
}

// Per-class TP, FP, FN: all that accuracy and macro-F1 need, cheap to rebuild per resample.
struct ClassTallies {
  std::vector<int64_t> tp, fp, fn;
  int64_t n = 0;

  explicit ClassTallies(int64_t num_classes) : tp(num_classes, 0), fp(num_classes, 0), fn(num_classes, 0) {}
  void add(int64_t truth, int64_t prediction) {
    ++n;
    if (truth == prediction) {
      ++tp[truth];
    } else {
      ++fn[truth];
      ++fp[prediction];
    }
  }
  double accuracy() const {
    int64_t correct = 0;
    for (int64_t t : tp) correct += t;
    return static_cast<double>(correct) / static_cast<double>(n);
  }
  // A class occurs in the truth or the predictions exactly when TP + FP + FN > 0.
  double macro_f1() const {
    double sum = 0;
    int64_t classes = 0;
    for (size_t c = 0; c < tp.size(); ++c) {
      const int64_t denom = 2 * tp[c] + fp[c] + fn[c];
      if (denom == 0) continue;
      sum += 2.0 * static_cast<double>(tp[c]) / static_cast<double>(denom);
      ++classes;
    }
    return sum / static_cast<double>(classes);
  }
};

ClassTallies tally(const ConfusionCounts& counts) {
  ClassTallies t(counts.num_classes);
  for (int64_t c = 0; c < counts.num_classes; ++c) {
    t.tp[c] = counts.true_positives(c);
    t.fp[c] = counts.false_positives(c);
    t.fn[c] = counts.false_negatives(c);
  }
  t.n = counts.total();
  return t;
}

// numpy.percentile's default: linear interpolation between the order statistics of `sorted`.
double percentile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

Interval percentile_interval(std::vector<double> values, double level) {
  std::sort(values.begin(), values.end());
  return {percentile(values, (1 - level) / 2), percentile(values, (1 + level) / 2)};
}

void bootstrap_intervals(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred, int64_t num_classes,
                         const BootstrapOptions& options, ClassificationMetrics& m) {
  if (options.resamples < 0)
    throw core::InputError("bootstrap resamples = " + std::to_string(options.resamples), kWhere,
                           "use a count >= 0 (0 skips the intervals; 1000 is usual)");
  if (!(options.level > 0 && options.level < 1))
    throw core::InputError("bootstrap level = " + std::to_string(options.level), kWhere, "use a level in (0, 1), e.g. 0.95");
  if (options.resamples == 0) return;
  const auto n = static_cast<uint64_t>(y_true.size());
  std::vector<double> acc(options.resamples), f1(options.resamples);
  for (int64_t b = 0; b < options.resamples; ++b) {
    core::SplitMix64 rng(core::hash_words(options.seed, static_cast<uint64_t>(b)));
    ClassTallies t(num_classes);
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t j = rng.below(n);
      t.add(y_true[j], y_pred[j]);
    }
    acc[b] = t.accuracy();
    f1[b] = t.macro_f1();
  }
  m.accuracy_ci = percentile_interval(std::move(acc), options.level);
  m.macro_f1_ci = percentile_interval(std::move(f1), options.level);
}

}  // namespace

int64_t ConfusionCounts::total() const {
  int64_t sum = 0;
  for (int64_t c : counts) sum += c;
  return sum;
}

int64_t ConfusionCounts::false_positives(int64_t c) const {
  int64_t sum = 0;
  for (int64_t t = 0; t < num_classes; ++t)
    if (t != c) sum += at(t, c);
  return sum;
}

int64_t ConfusionCounts::false_negatives(int64_t c) const {
  int64_t sum = 0;
  for (int64_t p = 0; p < num_classes; ++p)
    if (p != c) sum += at(c, p);
  return sum;
}

ConfusionCounts confusion_counts(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred,
                                 int64_t num_classes) {
  check_inputs(y_true, y_pred, num_classes);
  ConfusionCounts m{num_classes, std::vector<int64_t>(num_classes * num_classes, 0)};
  for (size_t i = 0; i < y_true.size(); ++i) ++m.counts[y_true[i] * num_classes + y_pred[i]];
  return m;
}

double accuracy(const ConfusionCounts& counts) {
  if (counts.total() == 0) throw core::InputError("no test proteins", kWhere, "metrics need at least one test protein");
  return tally(counts).accuracy();
}

double macro_f1(const ConfusionCounts& counts) {
  if (counts.total() == 0) throw core::InputError("no test proteins", kWhere, "metrics need at least one test protein");
  return tally(counts).macro_f1();
}

double accuracy(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred, int64_t num_classes) {
  return accuracy(confusion_counts(y_true, y_pred, num_classes));
}

double macro_f1(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred, int64_t num_classes) {
  return macro_f1(confusion_counts(y_true, y_pred, num_classes));
}

ClassificationMetrics classification_metrics(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred,
                                             int64_t num_classes, const BootstrapOptions& bootstrap) {
  const ClassTallies t = tally(confusion_counts(y_true, y_pred, num_classes));
  ClassificationMetrics m;
  m.accuracy = t.accuracy();
  m.macro_f1 = t.macro_f1();
  m.n = t.n;
  bootstrap_intervals(y_true, y_pred, num_classes, bootstrap, m);
  return m;
}

int64_t majority_class(const std::vector<int64_t>& train_labels, int64_t num_classes) {
  if (num_classes < 1)
    throw core::InputError("number of classes is " + std::to_string(num_classes), kWhere, "it must be at least 1");
  if (train_labels.empty())
    throw core::InputError("no training labels", kWhere, "the majority baseline needs the training proteins' labels");
  check_labels(train_labels, "train_labels", num_classes);
  std::vector<int64_t> count(num_classes, 0);
  for (int64_t y : train_labels) ++count[y];
  return std::max_element(count.begin(), count.end()) - count.begin();  // first maximum: lowest id
}

ClassificationMetrics majority_baseline(const std::vector<int64_t>& train_labels, const std::vector<int64_t>& y_true,
                                        int64_t num_classes, const BootstrapOptions& bootstrap) {
  const int64_t majority = majority_class(train_labels, num_classes);
  return classification_metrics(y_true, std::vector<int64_t>(y_true.size(), majority), num_classes, bootstrap);
}

}  // namespace ankh::probe
