// Linear classification probes: metrics against hand-computed values, the majority baseline, the
// bootstrap intervals, the standardizer, the logistic regression against known optima and an
// independent finite-difference gradient, and the lambda choice of fit_probe.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/hash.h"
#include "trainer/probe/class_metrics.h"
#include "trainer/probe/linear_probe.h"

using namespace ankh::probe;
using ankh::core::InputError;

namespace {

double gaussian(ankh::core::SplitMix64& rng) {
  const double u1 = 1.0 - rng.uniform(), u2 = rng.uniform();  // u1 in (0, 1]
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

struct Data {
  torch::Tensor x, y;
  std::vector<std::string> ids;
};

// counts[c] points around centers[c] (D = centers[c].size()) with standard deviation sd.
Data blobs(const std::vector<int64_t>& counts, const std::vector<std::vector<double>>& centers, double sd, uint64_t seed) {
  ankh::core::SplitMix64 rng(seed);
  std::vector<float> xs;
  std::vector<int64_t> ys;
  Data d;
  for (size_t c = 0; c < counts.size(); ++c)
    for (int64_t i = 0; i < counts[c]; ++i) {
      for (double m : centers[c]) xs.push_back(static_cast<float>(m + sd * gaussian(rng)));
      ys.push_back(static_cast<int64_t>(c));
      d.ids.push_back("P" + std::to_string(seed) + "_" + std::to_string(ys.size()));
    }
  const auto dim = static_cast<int64_t>(centers[0].size());
  d.x = torch::tensor(xs).reshape({static_cast<int64_t>(ys.size()), dim});
  d.y = torch::tensor(ys, torch::kInt64);
  return d;
}

// Overlapping 3-class data in 3-D, so the optimum is finite and lambda matters.
Data noisy(uint64_t seed, int64_t per_class = 40) {
  return blobs({per_class, per_class, per_class}, {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, 0.8, seed);
}

// The objective written out independently of the library: (1/N) sum_i w[y_i] CE_i + lambda/2 ||W||^2.
double objective(const std::vector<double>& W, const std::vector<double>& b, const torch::Tensor& x,
                 const torch::Tensor& y, double lambda, const std::vector<double>& cw) {
  const int64_t n = x.size(0), d = x.size(1), c = static_cast<int64_t>(b.size());
  const auto xa = x.to(torch::kFloat64).contiguous();
  const double* xp = xa.data_ptr<double>();
  double loss = 0;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> z(c);
    double zmax = -1e300;
    for (int64_t k = 0; k < c; ++k) {
      z[k] = b[k];
      for (int64_t j = 0; j < d; ++j) z[k] += W[k * d + j] * xp[i * d + j];
      zmax = std::max(zmax, z[k]);
    }
    double s = 0;
    for (int64_t k = 0; k < c; ++k) s += std::exp(z[k] - zmax);
    const int64_t yi = y[i].item<int64_t>();
    loss += (cw.empty() ? 1.0 : cw[yi]) * (zmax + std::log(s) - z[yi]);
  }
  double sq = 0;
  for (double w : W) sq += w * w;
  return loss / static_cast<double>(n) + 0.5 * lambda * sq;
}

std::vector<double> to_vec(const torch::Tensor& t) {
  const auto c = t.contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// Central finite differences of the independent objective at the fitted parameters.
double max_fd_gradient(const LogisticRegression& m, const torch::Tensor& x, const torch::Tensor& y, double lambda,
                       const std::vector<double>& cw) {
  auto W = to_vec(m.weight()), b = to_vec(m.bias());
  const double h = 1e-5;
  double worst = 0;
  for (auto* v : {&W, &b})
    for (double& p : *v) {
      const double keep = p;
      p = keep + h;
      const double up = objective(W, b, x, y, lambda, cw);
      p = keep - h;
      const double down = objective(W, b, x, y, lambda, cw);
      p = keep;
      worst = std::max(worst, std::abs(up - down) / (2 * h));
    }
  return worst;
}

}  // namespace

TEST(ProbeMetrics, AccuracyMacroF1AndConfusionByHand) {
  // Class 2 is never predicted, class 3 only predicted, class 4 absent from both (left out).
  const std::vector<int64_t> truth = {0, 0, 0, 1, 1, 2}, pred = {0, 0, 1, 1, 3, 1};
  const auto cm = confusion_counts(truth, pred, 5);
  EXPECT_EQ(cm.total(), 6);
  EXPECT_EQ(cm.at(0, 0), 2);
  EXPECT_EQ(cm.at(0, 1), 1);
  EXPECT_EQ(cm.at(1, 3), 1);
  EXPECT_EQ(cm.at(2, 1), 1);
  EXPECT_EQ(cm.false_positives(1), 2);
  EXPECT_EQ(cm.false_negatives(1), 1);
  EXPECT_EQ(cm.false_positives(3), 1);
  EXPECT_DOUBLE_EQ(accuracy(truth, pred, 5), 0.5);
  // F1: class 0 = 4/5, class 1 = 2/5, class 2 = 0, class 3 = 0; mean over 4 classes.
  EXPECT_DOUBLE_EQ(macro_f1(truth, pred, 5), (0.8 + 0.4) / 4);
  EXPECT_DOUBLE_EQ(macro_f1(truth, truth, 5), 1.0);
  // Unused classes in num_classes change nothing.
  EXPECT_DOUBLE_EQ(macro_f1(truth, pred, 50), macro_f1(truth, pred, 5));
}

TEST(ProbeMetrics, RejectsBadInput) {
  EXPECT_THROW(accuracy({0, 1}, {0}, 2), InputError);
  EXPECT_THROW(accuracy({}, {}, 2), InputError);
  EXPECT_THROW(accuracy({0, 2}, {0, 1}, 2), InputError);
  EXPECT_THROW(macro_f1({0, 1}, {0, -1}, 2), InputError);
  EXPECT_THROW(majority_class({}, 3), InputError);
  EXPECT_THROW(classification_metrics({0, 1}, {0, 1}, 2, {10, 0, 1.5}), InputError);
}

TEST(ProbeMetrics, MajorityBaselineUsesTrainingLabels) {
  EXPECT_EQ(majority_class({2, 2, 1, 0, 2, 1}, 3), 2);
  EXPECT_EQ(majority_class({1, 0, 0, 1}, 3), 0);  // tie: lowest id
  // Test labels are mostly 0, but the training majority (2) is what is predicted.
  const auto m = majority_baseline({2, 2, 1, 0, 2, 1}, {2, 0, 0, 0, 1}, 3, {0, 0, 0.95});
  EXPECT_EQ(m.n, 5);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.2);
  EXPECT_DOUBLE_EQ(m.macro_f1, (2.0 / 6.0) / 3);  // class 2: TP 1, FP 4; classes 0, 1: F1 0
  EXPECT_TRUE(std::isnan(m.accuracy_ci.lower));  // resamples 0: no interval
}

TEST(ProbeMetrics, BootstrapIsDeterministicContainsEstimateAndNarrows) {
  // 50 proteins, 40 right; the errors spread over classes.
  std::vector<int64_t> truth, pred;
  for (int64_t i = 0; i < 50; ++i) {
    truth.push_back(i % 4);
    pred.push_back(i % 5 == 0 ? (i + 1) % 4 : i % 4);
  }
  const BootstrapOptions opts{1000, 7, 0.95};
  const auto a = classification_metrics(truth, pred, 4, opts);
  const auto b = classification_metrics(truth, pred, 4, opts);
  EXPECT_DOUBLE_EQ(a.accuracy, 0.8);
  EXPECT_EQ(a.accuracy_ci.lower, b.accuracy_ci.lower);
  EXPECT_EQ(a.macro_f1_ci.upper, b.macro_f1_ci.upper);
  EXPECT_TRUE(a.accuracy_ci.contains(a.accuracy));
  EXPECT_TRUE(a.macro_f1_ci.contains(a.macro_f1));
  EXPECT_GT(a.accuracy_ci.width(), 0);
  const auto other_seed = classification_metrics(truth, pred, 4, {1000, 8, 0.95});
  EXPECT_NE(a.accuracy_ci.lower + a.macro_f1_ci.lower, other_seed.accuracy_ci.lower + other_seed.macro_f1_ci.lower);

  // 16 times the proteins: the interval shrinks about 4-fold and matches the binomial width.
  std::vector<int64_t> truth16, pred16;
  for (int r = 0; r < 16; ++r) {
    truth16.insert(truth16.end(), truth.begin(), truth.end());
    pred16.insert(pred16.end(), pred.begin(), pred.end());
  }
  const auto big = classification_metrics(truth16, pred16, 4, opts);
  EXPECT_DOUBLE_EQ(big.accuracy, 0.8);
  EXPECT_TRUE(big.accuracy_ci.contains(big.accuracy));
  EXPECT_LT(big.accuracy_ci.width(), 0.4 * a.accuracy_ci.width());
  EXPECT_LT(big.macro_f1_ci.width(), 0.4 * a.macro_f1_ci.width());
  const double normal_width = 2 * 1.96 * std::sqrt(0.8 * 0.2 / 800.0);
  EXPECT_NEAR(big.accuracy_ci.width(), normal_width, 0.2 * normal_width);

  // Perfect predictions: every resample is perfect.
  const auto perfect = classification_metrics(truth, truth, 4, opts);
  EXPECT_EQ(perfect.accuracy_ci.lower, 1.0);
  EXPECT_EQ(perfect.macro_f1_ci.lower, 1.0);
}

TEST(ProbeStandardizer, CentresScalesAndKeepsConstantFeaturesAtZero) {
  const auto x = torch::tensor({1.0f, 5.0f, 0.1f, 3.0f, 5.0f, 10.0f, 5.0f, 5.0f, 20.0f}).reshape({3, 3});
  // Column 2 is not constant; column 1 is.
  Standardizer s;
  s.fit(x);
  EXPECT_NEAR(s.mean()[0].item<double>(), 3.0, 1e-12);
  EXPECT_NEAR(s.scale()[0].item<double>(), std::sqrt(8.0 / 3.0), 1e-12);  // population std
  EXPECT_EQ(s.scale()[1].item<double>(), 1.0);
  const auto z = s.transform(x);
  EXPECT_EQ(z.scalar_type(), torch::kFloat64);
  EXPECT_LT(z.select(1, 1).abs().max().item<double>(), 1e-12);
  EXPECT_LT(z.mean(0).abs().max().item<double>(), 1e-12);
  EXPECT_NEAR(z.select(1, 0).pow(2).mean().item<double>(), 1.0, 1e-12);
  EXPECT_NEAR(z.select(1, 2).pow(2).mean().item<double>(), 1.0, 1e-12);
  // A constant float32 value whose float64 mean is not exact still maps to ~0, not to noise.
  Standardizer c;
  const auto tenths = torch::full({1000, 1}, 0.1f);
  c.fit(tenths);
  EXPECT_EQ(c.scale()[0].item<double>(), 1.0);
  EXPECT_LT(c.transform(tenths).abs().max().item<double>(), 1e-12);
  EXPECT_THROW(s.transform(torch::zeros({2, 4})), InputError);
  EXPECT_THROW(Standardizer().transform(x), InputError);
  EXPECT_THROW(s.fit(torch::tensor({1.0f, NAN}).reshape({2, 1})), InputError);
}

TEST(ProbeLogistic, SeparatesGaussianBlobs) {
  const std::vector<std::vector<double>> centers = {{4, 0, 0, 1}, {0, 4, 0, 1}, {0, 0, 4, 1}};
  const auto train = blobs({30, 40, 50}, centers, 0.5, 1), test = blobs({20, 20, 20}, centers, 0.5, 2);
  LogisticRegression m;
  torch::NoGradGuard caller_without_grad;  // fit must still work
  const auto report = m.fit(train.x, train.y, 3, 1e-3);
  EXPECT_TRUE(report.converged);
  EXPECT_TRUE(torch::equal(m.predict(train.x), train.y));
  EXPECT_TRUE(torch::equal(m.predict(test.x), test.y));
  const auto p = m.predict_proba(test.x);
  EXPECT_EQ(p.sizes(), (std::vector<int64_t>{60, 3}));
  EXPECT_LT((p.sum(1) - 1).abs().max().item<double>(), 1e-12);
}

TEST(ProbeLogistic, MatchesTheClosedFormOptimumOfSymmetricData) {
  // x = +1: 3 of 4 in class 1; x = -1: 3 of 4 in class 0. With a = w1 - w0 and no bias
  // difference by symmetry, the optimum solves sigmoid(a) - 3/4 + lambda * a / 2 = 0, with
  // w1 = -w0 = a / 2 (the penalty splits the difference evenly).
  const auto x = torch::tensor({1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0}).reshape({8, 1});
  const auto y = torch::tensor(std::vector<int64_t>{1, 1, 1, 0, 0, 0, 0, 1});
  for (double lambda : {0.0, 0.5}) {
    double lo = 0, hi = 5;
    for (int i = 0; i < 200; ++i) {
      const double a = (lo + hi) / 2;
      (1 / (1 + std::exp(-a)) - 0.75 + lambda * a / 2 > 0 ? hi : lo) = a;
    }
    const double a = (lo + hi) / 2;
    if (lambda == 0) {
      EXPECT_NEAR(a, std::log(3.0), 1e-12);
    }
    LogisticRegression m;
    const auto report = m.fit(x, y, 2, lambda, {500, 1e-7, 20});
    EXPECT_TRUE(report.converged) << "lambda " << lambda;
    // A gradient below 1e-7 puts w within 1e-7 / (curvature >= 0.375) of the optimum.
    EXPECT_NEAR(m.weight()[1][0].item<double>(), a / 2, 1e-6) << "lambda " << lambda;
    EXPECT_NEAR(m.weight()[0][0].item<double>(), -a / 2, 1e-6) << "lambda " << lambda;
    EXPECT_NEAR((m.bias()[1] - m.bias()[0]).item<double>(), 0.0, 1e-6);
  }
}

TEST(ProbeLogistic, GradientOfAnIndependentObjectiveVanishesAtTheSolution) {
  const auto d = noisy(3);
  for (const std::vector<double>& cw : {std::vector<double>{}, std::vector<double>{1.0, 2.5, 0.5}}) {
    LogisticRegression m;
    const auto report = m.fit(d.x, d.y, 3, 0.1, {500, 1e-7, 20}, cw);
    EXPECT_TRUE(report.converged);
    EXPECT_NEAR(report.loss, objective(to_vec(m.weight()), to_vec(m.bias()), d.x, d.y, 0.1, cw), 1e-12);
    EXPECT_LT(max_fd_gradient(m, d.x, d.y, 0.1, cw), 2e-7);
    // Moving away from the solution must raise the independent objective (it is a minimum).
    auto W = to_vec(m.weight());
    W[0] += 1e-2;
    EXPECT_GT(objective(W, to_vec(m.bias()), d.x, d.y, 0.1, cw), report.loss);
  }
}

TEST(ProbeLogistic, IterationBoundIsReported) {
  const auto d = noisy(3);
  LogisticRegression m;
  const auto report = m.fit(d.x, d.y, 3, 0.1, {1, 1e-7, 20});
  EXPECT_FALSE(report.converged);
  EXPECT_GT(report.grad_max, 1e-7);
  EXPECT_LT(report.evaluations, 30);  // one iteration: its line search and the final check
}

TEST(ProbeLogistic, LargerLambdaShrinksWeights) {
  const auto d = noisy(4);
  double previous = INFINITY;
  for (double lambda : {1e-3, 1e-1, 1e1, 1e4}) {
    LogisticRegression m;
    m.fit(d.x, d.y, 3, lambda);
    const double norm = m.weight().norm().item<double>();
    EXPECT_LT(norm, previous) << "lambda " << lambda;
    previous = norm;
  }
  EXPECT_LT(previous, 1e-3);
  LogisticRegression m;
  EXPECT_THROW(m.fit(d.x, d.y, 3, -1.0), InputError);
  EXPECT_THROW(m.fit(d.x, d.y, 2, 1.0), InputError);  // label 2 out of range
  EXPECT_THROW(m.fit(d.x, d.y.slice(0, 0, 5), 3, 1.0), InputError);
  EXPECT_THROW(m.predict(d.x), InputError);  // not fitted
}

TEST(ProbeFitProbe, ChoosesLambdaOnValidationAndIsDeterministic) {
  const auto d = noisy(5, 100);
  const auto a = fit_probe(d.x, d.y, d.ids, 3);
  const auto b = fit_probe(d.x, d.y, d.ids, 3);
  const auto grid = default_lambda_grid();
  EXPECT_EQ(grid.size(), 6u);
  EXPECT_NE(std::find(grid.begin(), grid.end(), a.lambda), grid.end());
  ASSERT_EQ(a.validation_accuracy.size(), grid.size());
  const double best = *std::max_element(a.validation_accuracy.begin(), a.validation_accuracy.end());
  const auto chosen = std::find(grid.begin(), grid.end(), a.lambda) - grid.begin();
  EXPECT_EQ(a.validation_accuracy[chosen], best);
  for (size_t k = chosen + 1; k < grid.size(); ++k) EXPECT_LT(a.validation_accuracy[k], best);  // ties go up
  EXPECT_EQ(a.n_fit + a.n_validation, 300);
  EXPECT_GT(a.n_validation, 30);
  EXPECT_LT(a.n_validation, 90);
  EXPECT_TRUE(a.final_fit.converged);
  EXPECT_EQ(a.lambda, b.lambda);
  EXPECT_EQ(a.validation_accuracy, b.validation_accuracy);
  EXPECT_TRUE(torch::equal(a.model.weight(), b.model.weight()));

  // The split follows the ids, not the row order.
  const auto perm = torch::arange(299, -1, -1, torch::kInt64);
  std::vector<std::string> ids(d.ids.rbegin(), d.ids.rend());
  const auto r = fit_probe(d.x.index_select(0, perm), d.y.index_select(0, perm), ids, 3);
  EXPECT_EQ(r.n_validation, a.n_validation);
  EXPECT_EQ(r.lambda, a.lambda);
  EXPECT_EQ(r.validation_accuracy, a.validation_accuracy);
  EXPECT_TRUE(torch::allclose(r.model.weight(), a.model.weight(), 1e-6, 1e-8));
}

TEST(ProbeFitProbe, RejectsACollapsedModelAndBreaksTiesUpward) {
  // Imbalanced, well separated: a huge penalty collapses to the prior (majority class) and
  // loses on validation; every moderate penalty is perfect, and the largest of those wins.
  const auto d = blobs({120, 50, 30}, {{3, 0}, {0, 3}, {-3, -3}}, 0.4, 6);
  ProbeOptions options;
  options.lambdas = {1e-3, 1e-2, 1e-1, 1e5};
  const auto fit = fit_probe(d.x, d.y, d.ids, 3, options);
  EXPECT_EQ(fit.validation_accuracy[0], 1.0);
  EXPECT_EQ(fit.validation_accuracy[2], 1.0);
  EXPECT_LT(fit.validation_accuracy[3], 0.8);
  EXPECT_EQ(fit.lambda, 1e-1);
  EXPECT_TRUE(torch::equal(fit.predict(d.x), d.y));

  options.lambdas = {0.5};  // one lambda: no split, no validation score
  const auto single = fit_probe(d.x, d.y, d.ids, 3, options);
  EXPECT_EQ(single.lambda, 0.5);
  EXPECT_EQ(single.n_validation, 0);
  EXPECT_TRUE(std::isnan(single.validation_accuracy[0]));
}

TEST(ProbeFitProbe, PredictionsDoNotDependOnFeatureScale) {
  const auto d = noisy(7, 60), test = noisy(8, 30);
  // Per-feature scales over six orders of magnitude and offsets: without the standardizer the
  // same lambda would penalise the features very differently.
  const auto scale = torch::tensor({1000.0f, 0.001f, 7.0f}), shift = torch::tensor({1e3f, -5.0f, 0.0f});
  const auto a = fit_probe(d.x, d.y, d.ids, 3);
  const auto b = fit_probe(d.x * scale + shift, d.y, d.ids, 3);
  EXPECT_EQ(a.lambda, b.lambda);
  EXPECT_EQ(a.validation_accuracy, b.validation_accuracy);
  EXPECT_TRUE(torch::equal(a.predict(test.x), b.predict(test.x * scale + shift)));
  EXPECT_LT((a.predict_proba(test.x) - b.predict_proba(test.x * scale + shift)).abs().max().item<double>(), 1e-4);
}

TEST(ProbeFitProbe, RejectsBadInput) {
  const auto d = noisy(9, 10);
  EXPECT_THROW(fit_probe(d.x, d.y, std::vector<std::string>(d.ids.begin(), d.ids.end() - 1), 3), InputError);
  ProbeOptions options;
  options.lambdas = {};
  EXPECT_THROW(fit_probe(d.x, d.y, d.ids, 3, options), InputError);
  options.lambdas = {1.0, 2.0};
  options.validation_fraction = 1.0;
  EXPECT_THROW(fit_probe(d.x, d.y, d.ids, 3, options), InputError);
  options.validation_fraction = 0.2;
  // One protein cannot be both fitted on and validated.
  EXPECT_THROW(fit_probe(d.x.slice(0, 0, 1), d.y.slice(0, 0, 1), {d.ids[0]}, 3, options), InputError);
  EXPECT_EQ(to_label_vector(d.y.slice(0, 0, 3)), (std::vector<int64_t>{0, 0, 0}));
}
