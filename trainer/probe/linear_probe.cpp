#include "trainer/probe/linear_probe.h"

#include <c10/core/GradMode.h>
#include <torch/optim/lbfgs.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/hash.h"

namespace ankh::probe {
namespace {

constexpr const char* kWhere = "linear probe";

torch::Tensor features_f64(const torch::Tensor& x, const char* what) {
  if (!x.defined() || x.dim() != 2 || !x.is_floating_point())
    throw core::InputError(std::string(what) + " must be a 2-D floating-point tensor [proteins, features]", kWhere,
                           "pass one embedding row per protein");
  if (x.size(0) == 0 || x.size(1) == 0)
    throw core::InputError(std::string(what) + " is empty", kWhere, "a probe needs at least one protein and one feature");
  auto x64 = x.to(torch::kCPU, torch::kFloat64).contiguous();
  if (!torch::isfinite(x64).all().item<bool>())
    throw core::InputError(std::string(what) + " contain NaN or Inf", kWhere,
                           "check the embeddings file; a diverged model gives non-finite embeddings");
  return x64;
}

torch::Tensor labels_i64(const torch::Tensor& y, int64_t n, int64_t num_classes) {
  if (num_classes < 1)
    throw core::InputError("number of classes is " + std::to_string(num_classes), kWhere, "it must be at least 1");
  if (!y.defined() || y.dim() != 1 || y.is_floating_point() || y.scalar_type() == torch::kBool)
    throw core::InputError("labels must be a 1-D integer tensor", kWhere, "pass class ids 0 .. C-1 as int64");
  if (y.size(0) != n)
    throw core::InputError(std::to_string(y.size(0)) + " labels for " + std::to_string(n) + " proteins", kWhere,
                           "give exactly one label per feature row");
  auto y64 = y.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t lo = y64.min().item<int64_t>(), hi = y64.max().item<int64_t>();
  if (lo < 0 || hi >= num_classes)
    throw core::InputError("label " + std::to_string(lo < 0 ? lo : hi) + " outside [0, " + std::to_string(num_classes) + ")",
                           kWhere, "labels must be class ids 0 .. C-1; map names to ids first");
  return y64;
}

// Per-sample weights w[y_i], or an undefined tensor when every class weight is 1.
torch::Tensor sample_weights(const std::vector<double>& class_weights, const torch::Tensor& y, int64_t num_classes) {
  if (class_weights.empty()) return {};
  if (static_cast<int64_t>(class_weights.size()) != num_classes)
    throw core::InputError(std::to_string(class_weights.size()) + " class weights for " + std::to_string(num_classes) +
                               " classes", kWhere, "give one weight per class, or none");
  for (double w : class_weights)
    if (!std::isfinite(w) || w < 0)
      throw core::InputError("class weight " + std::to_string(w), kWhere, "class weights must be finite and >= 0");
  return torch::tensor(class_weights, torch::kFloat64).index_select(0, y);
}

torch::Tensor objective(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& w, const torch::Tensor& weight,
                        const torch::Tensor& bias, double lambda) {
  const auto log_p = torch::log_softmax(torch::addmm(bias, x, weight.t()), 1);
  const auto nll = -log_p.gather(1, y.unsqueeze(1)).squeeze(1);
  const auto data_term = w.defined() ? (nll * w).sum() / static_cast<double>(x.size(0)) : nll.mean();
  return data_term + 0.5 * lambda * weight.pow(2).sum();
}

// scikit-learn's 'balanced': n / (k * n_c) over the k classes present; absent classes get 0.
std::vector<double> balanced_weights(const torch::Tensor& y, int64_t num_classes) {
  const auto counts = torch::bincount(y, {}, num_classes);
  const int64_t present = (counts > 0).sum().item<int64_t>();
  std::vector<double> w(num_classes, 0.0);
  for (int64_t c = 0; c < num_classes; ++c) {
    const int64_t n_c = counts[c].item<int64_t>();
    if (n_c > 0) w[c] = static_cast<double>(y.size(0)) / (static_cast<double>(present) * n_c);
  }
  return w;
}

}  // namespace

void Standardizer::fit(const torch::Tensor& x) {
  const auto x64 = features_f64(x, "standardizer features");
  mean_ = x64.mean(0);
  const auto sd = (x64 - mean_).pow(2).mean(0).sqrt();
  // Rounding of the mean leaves a constant column a std of ~1e-17 of its magnitude, not 0.
  const auto constant = sd <= 1e-12 * x64.abs().amax(0);
  scale_ = torch::where(constant, torch::ones_like(sd), sd);
}

torch::Tensor Standardizer::transform(const torch::Tensor& x) const {
  if (!fitted()) throw core::InputError("standardizer used before fit", kWhere, "call fit on the training features first");
  const auto x64 = features_f64(x, "features");
  if (x64.size(1) != mean_.size(0))
    throw core::InputError(std::to_string(x64.size(1)) + " features, the standardizer was fitted on " +
                               std::to_string(mean_.size(0)), kWhere, "use embeddings of the same model for train and test");
  return (x64 - mean_) / scale_;
}

FitReport LogisticRegression::fit(const torch::Tensor& x, const torch::Tensor& y, int64_t num_classes, double lambda,
                                  const SolverOptions& solver, const std::vector<double>& class_weights) {
  const auto x64 = features_f64(x, "features");
  const auto y64 = labels_i64(y, x64.size(0), num_classes);
  if (!std::isfinite(lambda) || lambda < 0)
    throw core::InputError("L2 penalty lambda = " + std::to_string(lambda), kWhere, "lambda must be finite and >= 0");
  if (solver.max_iterations < 1 || !(solver.grad_tolerance >= 0) || solver.history_size < 1)
    throw core::InputError("invalid solver options", kWhere, "max_iterations and history_size >= 1, grad_tolerance >= 0");
  const auto w = sample_weights(class_weights, y64, num_classes);

  // Autograd must be on even if the caller evaluates under a NoGradGuard.
  c10::AutoGradMode grad_on(true);
  auto weight = torch::zeros({num_classes, x64.size(1)}, torch::kFloat64).requires_grad_();
  auto bias = torch::zeros({num_classes}, torch::kFloat64).requires_grad_();
  // tolerance_change at float64 resolution of a loss of order 1: stop on the gradient, not on a
  // small loss change (sklearn's lbfgs stops at 64 eps, earlier); 0 would let a stalled line
  // search spin through max_eval evaluations.
  torch::optim::LBFGS lbfgs(std::vector<torch::Tensor>{weight, bias}, torch::optim::LBFGSOptions(1.0)
                                                .max_iter(solver.max_iterations)
                                                .max_eval(solver.max_iterations * 3)
                                                .tolerance_grad(solver.grad_tolerance)
                                                .tolerance_change(1e-15)
                                                .history_size(solver.history_size)
                                                .line_search_fn("strong_wolfe"));
  FitReport report;
  auto closure = [&] {
    ++report.evaluations;
    lbfgs.zero_grad();
    auto loss = objective(x64, y64, w, weight, bias, lambda);
    loss.backward();
    return loss;
  };
  lbfgs.step(closure);

  const auto final_loss = closure();  // the objective and gradient where L-BFGS stopped
  report.loss = final_loss.item<double>();
  report.grad_max = std::max(weight.grad().abs().max().item<double>(), bias.grad().abs().max().item<double>());
  report.converged = report.grad_max <= solver.grad_tolerance;
  weight_ = weight.detach().clone();
  bias_ = bias.detach().clone();
  return report;
}

torch::Tensor LogisticRegression::decision_function(const torch::Tensor& x) const {
  if (!fitted()) throw core::InputError("logistic regression used before fit", kWhere, "call fit first");
  const auto x64 = features_f64(x, "features");
  if (x64.size(1) != weight_.size(1))
    throw core::InputError(std::to_string(x64.size(1)) + " features, the model was fitted on " +
                               std::to_string(weight_.size(1)), kWhere, "use embeddings of the same model for train and test");
  torch::NoGradGuard no_grad;
  return torch::addmm(bias_, x64, weight_.t());
}

torch::Tensor LogisticRegression::predict_proba(const torch::Tensor& x) const {
  return torch::softmax(decision_function(x), 1);
}

torch::Tensor LogisticRegression::predict(const torch::Tensor& x) const {
  return decision_function(x).argmax(1);
}

std::vector<double> default_lambda_grid() { return {1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1}; }

bool in_validation_part(std::string_view id, double fraction, uint64_t seed) {
  return static_cast<double>(core::hash_bytes(id, seed) >> 11) * 0x1.0p-53 < fraction;
}

torch::Tensor ProbeFit::predict(const torch::Tensor& x) const { return model.predict(scaler.transform(x)); }

torch::Tensor ProbeFit::predict_proba(const torch::Tensor& x) const { return model.predict_proba(scaler.transform(x)); }

namespace {

struct Fitted {
  Standardizer scaler;
  LogisticRegression model;
  FitReport report;
};

Fitted fit_one(const torch::Tensor& x, const torch::Tensor& y, int64_t num_classes, double lambda, const ProbeOptions& options) {
  Fitted f;
  f.scaler.fit(x);
  const auto weights = options.balanced_class_weights ? balanced_weights(y, num_classes) : std::vector<double>{};
  f.report = f.model.fit(f.scaler.transform(x), y, num_classes, lambda, options.solver, weights);
  return f;
}

void check_probe_options(const ProbeOptions& options) {
  if (options.lambdas.empty())
    throw core::InputError("empty lambda grid", kWhere, "give at least one L2 penalty, e.g. default_lambda_grid()");
  for (double l : options.lambdas)
    if (!std::isfinite(l) || l < 0)
      throw core::InputError("L2 penalty lambda = " + std::to_string(l), kWhere, "lambdas must be finite and >= 0");
  if (options.lambdas.size() > 1 && !(options.validation_fraction > 0 && options.validation_fraction < 1))
    throw core::InputError("validation fraction " + std::to_string(options.validation_fraction), kWhere,
                           "it must lie strictly between 0 and 1, e.g. 0.2");
}

}  // namespace

ProbeFit fit_probe(const torch::Tensor& x, const torch::Tensor& y, const std::vector<std::string>& ids,
                   int64_t num_classes, const ProbeOptions& options) {
  check_probe_options(options);
  const auto x64 = features_f64(x, "features");
  const auto y64 = labels_i64(y, x64.size(0), num_classes);
  if (static_cast<int64_t>(ids.size()) != x64.size(0))
    throw core::InputError(std::to_string(ids.size()) + " protein ids for " + std::to_string(x64.size(0)) + " proteins",
                           kWhere, "give one id per feature row");
  ProbeFit result;
  result.lambdas = options.lambdas;
  result.validation_accuracy.assign(options.lambdas.size(), std::numeric_limits<double>::quiet_NaN());
  result.lambda = options.lambdas.front();

  if (options.lambdas.size() > 1) {
    std::vector<int64_t> fit_rows, val_rows;
    for (size_t i = 0; i < ids.size(); ++i)
      (in_validation_part(ids[i], options.validation_fraction, options.split_seed) ? val_rows : fit_rows)
          .push_back(static_cast<int64_t>(i));
    result.n_fit = static_cast<int64_t>(fit_rows.size());
    result.n_validation = static_cast<int64_t>(val_rows.size());
    if (fit_rows.empty() || val_rows.empty())
      throw core::InputError("the validation split of " + std::to_string(ids.size()) + " proteins leaves " +
                                 (fit_rows.empty() ? "nothing to fit on" : "no validation protein"),
                             kWhere, "use more training proteins, another validation fraction, or a single lambda");
    const auto fit_idx = torch::tensor(fit_rows, torch::kInt64), val_idx = torch::tensor(val_rows, torch::kInt64);
    const auto x_fit = x64.index_select(0, fit_idx), y_fit = y64.index_select(0, fit_idx);
    const auto x_val = x64.index_select(0, val_idx), y_val = y64.index_select(0, val_idx);
    int64_t best_correct = -1;
    for (size_t k = 0; k < options.lambdas.size(); ++k) {
      const double lambda = options.lambdas[k];
      const Fitted f = fit_one(x_fit, y_fit, num_classes, lambda, options);
      const int64_t correct = f.model.predict(f.scaler.transform(x_val)).eq(y_val).sum().item<int64_t>();
      result.validation_accuracy[k] = static_cast<double>(correct) / static_cast<double>(val_rows.size());
      if (correct > best_correct || (correct == best_correct && lambda > result.lambda)) {
        best_correct = correct;
        result.lambda = lambda;
      }
    }
  }
  Fitted final_fit = fit_one(x64, y64, num_classes, result.lambda, options);
  result.scaler = std::move(final_fit.scaler);
  result.model = std::move(final_fit.model);
  result.final_fit = final_fit.report;
  return result;
}

std::vector<int64_t> to_label_vector(const torch::Tensor& labels) {
  if (!labels.defined() || labels.dim() != 1 || labels.is_floating_point())
    throw core::InputError("labels must be a 1-D integer tensor", kWhere, "pass class ids as int64");
  const auto y = labels.to(torch::kCPU, torch::kInt64).contiguous();
  return std::vector<int64_t>(y.data_ptr<int64_t>(), y.data_ptr<int64_t>() + y.numel());
}

}  // namespace ankh::probe
