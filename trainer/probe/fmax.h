// CAFA's protein-centric Fmax (Radivojac et al., 2013; Jiang et al., 2016), the score of GO
// annotation transfer: the best, over 101 thresholds, harmonic mean of average precision and
// average recall, with the three ontology roots left out (every protein has them).
#pragma once

#include <cstdint>
#include <vector>

#include "trainer/probe/go_graph.h"

namespace ankh::probe {

struct ScoredTerm {
  TermId term = kNoTerm;
  float score = 0;  // in [0, 1]
};
// The predicted terms of one protein, in any order.
using Prediction = std::vector<ScoredTerm>;

// Sorts `prediction` by term and keeps each term once, with its highest score.
void keep_best_scores(Prediction& prediction);

// `scores` propagated up the graph: every term and its ancestors, each ancestor scored with the
// maximum of the scores below it (a protein that has a function has every more general one, at
// least as surely). Sorted by term, each term once (a term given twice keeps its higher score).
// fmax() expects predictions made consistent this way, as CAFA does.
Prediction propagate_scores(const GoGraph& graph, const Prediction& scores);

struct FmaxResult {
  double fmax = 0;       // max over t of F(t) = 2 p r / (p + r); 0 when nothing is ever predicted right
  double threshold = 0;  // the t that achieved it (the lowest one, on a tie)
  double precision = 0;  // p(t) and r(t) there
  double recall = 0;
  // Fraction of the annotated queries that have at least one prediction at that threshold
  // (the queries p(t) averages over, out of all that r(t) averages over).
  double coverage = 0;
  int64_t queries = 0;  // annotated queries: non-empty truth once the roots are left out
};

// Fmax of `predictions` against `truth` (propagated term sets), both indexed by query. At each
// t = i/100, i = 0..100 (each the float nearest to it, the scores' type, so that a score of
// 0.57f counts at t = 0.57), a term is predicted when its score >= t; p(t) averages precision over
// the annotated queries with at least one term predicted at t, r(t) averages recall over all
// annotated queries; queries whose truth is empty (after leaving out the roots) are ignored
// entirely, predictions and all. Roots are left out of predictions too. All zeros when no
// query is annotated. InputError when the two lists differ in length.
FmaxResult fmax(const GoGraph& graph, const std::vector<Prediction>& predictions, const std::vector<TermSet>& truth);

}  // namespace ankh::probe
