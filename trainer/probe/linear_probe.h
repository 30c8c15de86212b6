// Linear classification probes on frozen per-protein embeddings: a per-feature standardizer and
// a multinomial logistic regression with an L2 penalty, the penalty chosen on a validation part
// of the training proteins (what scikit-learn's StandardScaler + LogisticRegression would give).
// A probe measures how linearly readable a property is from an embedding, so everything here is
// deterministic: float64 full-batch L-BFGS from a zero start, and a validation split that is a
// hash of each protein's id, independent of the order or number of proteins.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ankh::probe {

// Per-feature centring and scaling, fitted on training features only (so no test statistic
// leaks into the probe). Mean and population standard deviation (ddof 0, as scikit-learn) are
// computed in float64. A feature that is constant on the training set (its std is below 1e-12
// of its largest magnitude) gets scale 1, so it maps to ~0 instead of being blown up.
class Standardizer {
 public:
  // x: [N, D] floating point, N >= 1, finite. Throws core::InputError otherwise.
  void fit(const torch::Tensor& x);
  // (x - mean) / scale as float64 [N, D]; x must have the fitted D.
  torch::Tensor transform(const torch::Tensor& x) const;
  bool fitted() const { return mean_.defined(); }
  const torch::Tensor& mean() const { return mean_; }    // float64 [D]
  const torch::Tensor& scale() const { return scale_; }  // float64 [D]

 private:
  torch::Tensor mean_, scale_;
};

// When the solver stops: L-BFGS with a strong-Wolfe line search, at most max_iterations
// iterations, stopping early once every gradient entry is at most grad_tolerance. It also stops
// when the objective no longer changes at float64 resolution (1e-15), which for losses of order 1
// comes at gradients of about 1e-8: tolerances much below that are not reached.
struct SolverOptions {
  int64_t max_iterations = 500;
  double grad_tolerance = 1e-6;
  int64_t history_size = 20;
};

// How a fit ended, so a caller can tell a converged probe from one cut off by the bound.
struct FitReport {
  int64_t evaluations = 0;  // objective+gradient evaluations, the final check included
  double loss = 0;          // the objective at the returned parameters
  double grad_max = 0;      // max |gradient| there
  bool converged = false;   // grad_max <= grad_tolerance
};

// Multinomial logistic regression: logits = x W^T + b, minimising
//   (1/N) sum_i w[y_i] * CE(softmax(logits_i), y_i) + (lambda/2) ||W||^2
// (no penalty on the bias b; w = class weights, all 1 by default). The objective is strictly
// convex in W for lambda > 0, so the solution does not depend on the start; the start is zero.
class LogisticRegression {
 public:
  // x: [N, D] floating (used as float64); y: [N] integer labels in [0, num_classes);
  // lambda >= 0; class_weights: empty (all 1) or num_classes values >= 0.
  FitReport fit(const torch::Tensor& x, const torch::Tensor& y, int64_t num_classes, double lambda,
                const SolverOptions& solver = {}, const std::vector<double>& class_weights = {});
  torch::Tensor decision_function(const torch::Tensor& x) const;  // logits, float64 [N, C]
  torch::Tensor predict_proba(const torch::Tensor& x) const;      // float64 [N, C], rows sum to 1
  torch::Tensor predict(const torch::Tensor& x) const;            // int64 [N]; ties: lowest class
  bool fitted() const { return weight_.defined(); }
  const torch::Tensor& weight() const { return weight_; }  // float64 [C, D]
  const torch::Tensor& bias() const { return bias_; }      // float64 [C]
  int64_t num_classes() const { return fitted() ? weight_.size(0) : 0; }

 private:
  torch::Tensor weight_, bias_;
};

// 1e-4, 1e-3, ..., 1e1: from barely regularised to strongly shrunk, for standardized features.
std::vector<double> default_lambda_grid();

struct ProbeOptions {
  double validation_fraction = 0.2;  // of the training proteins, by hashed id; in (0, 1)
  uint64_t split_seed = 0;           // seed of the id hash that makes the split
  std::vector<double> lambdas = default_lambda_grid();
  // scikit-learn's class_weight='balanced': w_c = n / (k * n_c) over the k classes present in
  // the labels being fitted, so rare classes count as much as frequent ones.
  bool balanced_class_weights = false;
  SolverOptions solver;
};

// Whether a protein belongs to the validation part: a pure function of (id, seed), so the split
// is the same whatever the order of the proteins or the rest of the set.
bool in_validation_part(std::string_view id, double fraction, uint64_t seed);

// A fitted probe: the standardizer and the model refitted on all training proteins with the
// chosen lambda, and the record of the choice.
struct ProbeFit {
  Standardizer scaler;
  LogisticRegression model;
  double lambda = 0;
  std::vector<double> lambdas;              // the grid, in the order given
  std::vector<double> validation_accuracy;  // per lambda; NaN when the grid has one value
  int64_t n_fit = 0, n_validation = 0;      // the split used to choose lambda
  FitReport final_fit;                      // the refit on all training proteins

  torch::Tensor predict(const torch::Tensor& x) const;        // int64 [N]
  torch::Tensor predict_proba(const torch::Tensor& x) const;  // float64 [N, C]
};

// Splits the training proteins into fit and validation parts by in_validation_part(ids[i]);
// for each lambda fits a standardizer and a model on the fit part and scores accuracy on the
// validation part; chooses the lambda with the best accuracy (ties: the larger lambda, the
// simpler model); then refits the standardizer and the model on all training proteins.
// A grid of one lambda skips the split. Throws core::InputError when the shapes disagree, a
// label is out of range, or the split leaves either part empty.
ProbeFit fit_probe(const torch::Tensor& x, const torch::Tensor& y, const std::vector<std::string>& ids,
                   int64_t num_classes, const ProbeOptions& options = {});

// An integer label tensor [N] as a vector, for class_metrics.h.
std::vector<int64_t> to_label_vector(const torch::Tensor& labels);

}  // namespace ankh::probe
