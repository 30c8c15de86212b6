#include "trainer/probe/fmax.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "core/error.h"

namespace ankh::probe {

namespace {

constexpr int kSteps = 100;  // thresholds t = i / kSteps, i = 0 .. kSteps
using PerThreshold = std::array<int64_t, kSteps + 1>;

// t_i = i/100 as the float nearest to it (float division is correctly rounded), the type of
// the scores: a score of 0.57f is predicted at t = 0.57, as whoever wrote it meant.
float threshold_at(int i) { return static_cast<float>(i) / static_cast<float>(kSteps); }

// The highest i with score >= t_i, or -1: the term is predicted at exactly the thresholds 0 .. i.
// Found from floor(score * 100), then corrected by the comparison of the definition itself.
int top_threshold(float score) {
  if (!(score >= 0)) return -1;  // negative or NaN: never predicted
  if (score >= 1) return kSteps;
  int i = static_cast<int>(std::floor(static_cast<double>(score) * kSteps));
  while (i < kSteps && score >= threshold_at(i + 1)) ++i;
  while (i >= 0 && score < threshold_at(i)) --i;
  return i;
}

// Sums over all annotated queries, per threshold.
struct Totals {
  std::array<double, kSteps + 1> precision{}, recall{};
  PerThreshold with_prediction{};
  int64_t queries = 0;
};

TermSet without_roots(const GoGraph& graph, const TermSet& terms) {
  TermSet out;
  out.reserve(terms.size());
  for (TermId t : terms)
    if (!graph.is_root(t)) out.push_back(t);
  return out;
}

// Each non-root term once, with its highest score.
Prediction distinct_terms(const GoGraph& graph, const Prediction& prediction) {
  Prediction out;
  out.reserve(prediction.size());
  for (const ScoredTerm& s : prediction)
    if (!graph.is_root(s.term)) out.push_back(s);
  keep_best_scores(out);
  return out;
}

// One annotated query: how many terms it predicts, and how many of them rightly, at each t.
void add_query(const Prediction& prediction, const TermSet& truth, Totals& totals) {
  PerThreshold predicted{}, correct{};
  for (const ScoredTerm& s : prediction) {
    const int top = top_threshold(s.score);
    if (top < 0) continue;
    ++predicted[static_cast<std::size_t>(top)];
    if (std::binary_search(truth.begin(), truth.end(), s.term)) ++correct[static_cast<std::size_t>(top)];
  }
  for (int i = kSteps - 1; i >= 0; --i) {  // predicted at t_i: every term whose top is >= i
    predicted[static_cast<std::size_t>(i)] += predicted[static_cast<std::size_t>(i + 1)];
    correct[static_cast<std::size_t>(i)] += correct[static_cast<std::size_t>(i + 1)];
  }
  ++totals.queries;
  for (std::size_t i = 0; i <= kSteps; ++i) {
    totals.recall[i] += static_cast<double>(correct[i]) / static_cast<double>(truth.size());
    if (predicted[i] == 0) continue;
    totals.precision[i] += static_cast<double>(correct[i]) / static_cast<double>(predicted[i]);
    ++totals.with_prediction[i];
  }
}

FmaxResult best_threshold(const Totals& totals) {
  FmaxResult best;
  best.queries = totals.queries;
  if (totals.queries == 0) return best;
  const auto queries = static_cast<double>(totals.queries);
  best.coverage = static_cast<double>(totals.with_prediction[0]) / queries;
  for (std::size_t i = 0; i <= kSteps; ++i) {
    if (totals.with_prediction[i] == 0) continue;  // precision undefined: no F at this t
    const double p = totals.precision[i] / static_cast<double>(totals.with_prediction[i]);
    const double r = totals.recall[i] / queries;
    const double f = p + r > 0 ? 2 * p * r / (p + r) : 0;
    if (f > best.fmax) {
      best.fmax = f;
      best.threshold = static_cast<double>(i) / kSteps;
      best.precision = p;
      best.recall = r;
      best.coverage = static_cast<double>(totals.with_prediction[i]) / queries;
    }
  }
  return best;
}

}  // namespace

void keep_best_scores(Prediction& prediction) {
  std::sort(prediction.begin(), prediction.end(), [](const ScoredTerm& a, const ScoredTerm& b) {
    return a.term != b.term ? a.term < b.term : a.score > b.score;
  });
  const auto same_term = [](const ScoredTerm& a, const ScoredTerm& b) { return a.term == b.term; };
  prediction.erase(std::unique(prediction.begin(), prediction.end(), same_term), prediction.end());
}

Prediction propagate_scores(const GoGraph& graph, const Prediction& scores) {
  Prediction all;
  for (const ScoredTerm& s : scores) {
    all.push_back(s);
    for (TermId a : graph.ancestors(s.term)) all.push_back({a, s.score});
  }
  keep_best_scores(all);
  return all;
}

FmaxResult fmax(const GoGraph& graph, const std::vector<Prediction>& predictions, const std::vector<TermSet>& truth) {
  if (predictions.size() != truth.size())
    throw core::InputError("predictions for " + std::to_string(predictions.size()) + " queries but truth for " +
                               std::to_string(truth.size()),
                           "fmax", "predictions and truth are indexed by the same queries");
  Totals totals;
  for (std::size_t q = 0; q < truth.size(); ++q) {
    const TermSet annotated = without_roots(graph, truth[q]);
    if (annotated.empty()) continue;
    add_query(distinct_terms(graph, predictions[q]), annotated, totals);
  }
  return best_threshold(totals);
}

}  // namespace ankh::probe
