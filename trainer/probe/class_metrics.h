// Scores of a classification probe: accuracy, macro-F1, confusion counts, the majority-class
// baseline, and percentile-bootstrap intervals over the test proteins. A probe's number is only
// meaningful next to what a trivial predictor scores and with its sampling uncertainty, which on
// test sets of a few hundred proteins is often several points.
//
// Macro-F1 follows scikit-learn's f1_score(average='macro') with labels = the union of y_true and
// y_pred: F1_c = 2 TP / (2 TP + FP + FN) averaged over every class that occurs in the truth or in
// the predictions. A class absent from both says nothing about the probe and is left out; a class
// that is only predicted (F1 0) or only true (F1 0) counts, so inventing or missing classes costs.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace ankh::probe {

// Counts of (true class, predicted class) pairs, row-major [truth * num_classes + prediction].
struct ConfusionCounts {
  int64_t num_classes = 0;
  std::vector<int64_t> counts;

  int64_t at(int64_t truth, int64_t prediction) const { return counts[truth * num_classes + prediction]; }
  int64_t total() const;
  int64_t true_positives(int64_t c) const { return at(c, c); }
  int64_t false_positives(int64_t c) const;  // predicted c, truly another class
  int64_t false_negatives(int64_t c) const;  // truly c, predicted another class
};

// y_true and y_pred: the same non-zero length, labels in [0, num_classes). Every function below
// checks this and throws core::InputError naming the first offending position.
ConfusionCounts confusion_counts(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred,
                                 int64_t num_classes);
double accuracy(const ConfusionCounts& counts);
double macro_f1(const ConfusionCounts& counts);
double accuracy(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred, int64_t num_classes);
double macro_f1(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred, int64_t num_classes);

// A closed interval; NaN bounds when it was not computed.
struct Interval {
  double lower = std::numeric_limits<double>::quiet_NaN();
  double upper = std::numeric_limits<double>::quiet_NaN();
  bool contains(double v) const { return lower <= v && v <= upper; }
  double width() const { return upper - lower; }
};

// Resample b draws n proteins with replacement from its own counter-based stream
// hash_words(seed, b), so the interval is a pure function of (labels, seed, resamples) and two
// prediction vectors scored with the same seed are resampled identically (a paired comparison).
// The interval is the (1 - level)/2 and (1 + level)/2 percentiles, interpolated linearly between
// order statistics (numpy's default). resamples = 0 skips the bootstrap.
struct BootstrapOptions {
  int64_t resamples = 1000;
  uint64_t seed = 0;
  double level = 0.95;
};

struct ClassificationMetrics {
  double accuracy = 0;
  double macro_f1 = 0;
  Interval accuracy_ci;
  Interval macro_f1_ci;
  int64_t n = 0;  // test proteins
};

ClassificationMetrics classification_metrics(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred,
                                             int64_t num_classes, const BootstrapOptions& bootstrap = {});

// The most frequent class of the training labels (ties: the lowest class id, like
// scikit-learn's DummyClassifier(strategy='most_frequent')).
int64_t majority_class(const std::vector<int64_t>& train_labels, int64_t num_classes);

// The metrics of predicting majority_class(train_labels) for every test protein.
ClassificationMetrics majority_baseline(const std::vector<int64_t>& train_labels, const std::vector<int64_t>& y_true,
                                        int64_t num_classes, const BootstrapOptions& bootstrap = {});

}  // namespace ankh::probe
