// Adafactor against an independent float64 re-implementation of Shazeer & Stern / Hugging Face
// (plain loops, no LibTorch), against values derived by hand, and the exact state round trip.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "trainer/optim/adafactor.h"
#include "trainer/optim/optimizer.h"

using namespace ankh::optim;

namespace {

// Reference Adafactor for one parameter of shape rows x cols (cols == 0: a vector of `rows`).
struct RefAdafactor {
  OptimConfig c;
  int rows, cols;
  bool decay;
  std::vector<double> R, C, V, M;

  RefAdafactor(const OptimConfig& config, int r, int k, bool decay_ok)
      : c(config), rows(r), cols(k), decay(decay_ok), R(r, 0.0), C(k, 0.0), V(k ? 0 : r, 0.0), M(k ? r * k : r, 0.0) {}

  static double rms(const std::vector<double>& x) {
    double s = 0;
    for (double v : x) s += v * v;
    return std::sqrt(s / static_cast<double>(x.size()));
  }

  // One update at global step t (a parameter skipped at some step still sees the global t).
  void step(std::vector<double>& p, const std::vector<double>& g, double lr, int t) {
    const double b2 = 1.0 - std::pow(static_cast<double>(t), c.adafactor_decay);
    const double rho = c.adafactor_relative_step ? std::min(1e-2, 1.0 / std::sqrt(static_cast<double>(t))) : lr;
    const double alpha = rho * (c.adafactor_scale_parameter ? std::max(c.adafactor_eps2, rms(p)) : 1.0);
    std::vector<double> u(g.size());
    if (cols) {
      for (int r = 0; r < rows; ++r) {
        double mean = 0;
        for (int k = 0; k < cols; ++k) mean += g[r * cols + k] * g[r * cols + k] + c.adafactor_eps1;
        R[r] = b2 * R[r] + (1 - b2) * mean / cols;
      }
      for (int k = 0; k < cols; ++k) {
        double mean = 0;
        for (int r = 0; r < rows; ++r) mean += g[r * cols + k] * g[r * cols + k] + c.adafactor_eps1;
        C[k] = b2 * C[k] + (1 - b2) * mean / rows;
      }
      double mean_r = 0;
      for (double v : R) mean_r += v / rows;
      for (int r = 0; r < rows; ++r)
        for (int k = 0; k < cols; ++k) u[r * cols + k] = g[r * cols + k] / std::sqrt(R[r] / mean_r * C[k]);
    } else {
      for (size_t i = 0; i < g.size(); ++i) {
        V[i] = b2 * V[i] + (1 - b2) * (g[i] * g[i] + c.adafactor_eps1);
        u[i] = g[i] / std::sqrt(V[i]);
      }
    }
    const double clip = std::max(1.0, rms(u) / c.adafactor_clip_threshold);
    for (double& v : u) v = v / clip * alpha;
    if (c.adafactor_beta1 > 0) {
      for (size_t i = 0; i < u.size(); ++i) u[i] = M[i] = c.adafactor_beta1 * M[i] + (1 - c.adafactor_beta1) * u[i];
    }
    for (size_t i = 0; i < p.size(); ++i) {
      if (c.weight_decay != 0 && decay) p[i] -= alpha * c.weight_decay * p[i];
      p[i] -= u[i];
    }
  }
};

std::vector<double> to_vector(const torch::Tensor& t) {
  const torch::Tensor d = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

torch::Tensor grad_for(const torch::Tensor& p, int i, int t) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7919 * t + i);
  // Uneven row scales exercise the factored statistics.
  torch::Tensor g = torch::randn(p.sizes(), gen, torch::TensorOptions().dtype(torch::kFloat64));
  if (p.dim() == 2) g = g * torch::linspace(0.1, 3.0, p.size(0), torch::kFloat64).unsqueeze(1);
  return g.to(p.scalar_type());
}

// Runs our optimizer and the reference over `steps` steps on two matrices and two vectors of
// dtype `dtype` (same-shaped parameters share a group in our implementation; one of each pair is
// exempt from weight decay), returning the largest relative difference. `skip_step` > 0 leaves
// the second matrix without a gradient at that step (the per-member path of its group).
double max_relative_difference(const OptimConfig& config, torch::ScalarType dtype, int steps, int skip_step = 0) {
  torch::manual_seed(3);
  const std::vector<std::string> names = {"encoder.block.0.layer.1.DenseReluDense.wi_0.weight",
                                          "encoder.block.0.layer.1.DenseReluDense.layer_norm.weight",
                                          "encoder.block.0.layer.1.layer_norm.weight", "encoder.final_layer_norm.weight"};
  std::vector<torch::Tensor> params = {
      torch::randn({5, 7}, torch::kFloat64).to(dtype), torch::randn({5, 7}, torch::kFloat64).to(dtype),
      (1 + 0.1 * torch::randn({6}, torch::kFloat64)).to(dtype), (1 + 0.1 * torch::randn({6}, torch::kFloat64)).to(dtype)};
  std::vector<std::vector<double>> refs;
  for (const auto& p : params) refs.push_back(to_vector(p));
  std::vector<RefAdafactor> ref = {RefAdafactor(config, 5, 7, true), RefAdafactor(config, 5, 7, false),
                                   RefAdafactor(config, 6, 0, false), RefAdafactor(config, 6, 0, false)};
  NamedParams named;
  for (size_t i = 0; i < params.size(); ++i) named.emplace_back(names[i], params[i]);
  auto opt = make_optimizer(config, named);
  for (int t = 1; t <= steps; ++t) {
    const double lr = 1e-2 / t;
    for (size_t i = 0; i < params.size(); ++i) {
      if (t == skip_step && i == 1) {
        params[i].mutable_grad() = torch::Tensor();
        continue;
      }
      params[i].mutable_grad() = grad_for(params[i], static_cast<int>(i), t);
      ref[i].step(refs[i], to_vector(params[i].grad()), lr, t);
    }
    opt->step(lr);
  }
  double worst = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const std::vector<double> o = to_vector(params[i]);
    for (size_t j = 0; j < o.size(); ++j)
      worst = std::max(worst, std::abs(o[j] - refs[i][j]) / std::max(1e-3, std::abs(refs[i][j])));
  }
  return worst;
}

OptimConfig adafactor_config() {
  OptimConfig c;
  c.name = OptimizerKind::Adafactor;
  return c;
}

}  // namespace

TEST(OptimAdafactor, FirstStepIsLrTimesSignOfGradient) {
  // By hand: at t = 1, beta2_1 = 1 - 1^-0.8 = 0, so V = g^2 (+1e-30) exactly for a vector, and for
  // a matrix whose g^2 is rank one (g = a b^T) the factored V = (R/mean R) C is g^2 too. Hence
  // U = g/|g| = sign(g), RMS(U) = 1 (no clipping) and p1 = p0 - lr * sign(g).
  OptimConfig c = adafactor_config();
  torch::Tensor w = torch::zeros({3, 2}, torch::kFloat64), v = torch::zeros({3}, torch::kFloat64);
  auto opt = make_optimizer(c, {{"w.weight", w}, {"v", v}});
  w.mutable_grad() = torch::tensor({1.0, -2.0, 3.0}, torch::kFloat64).unsqueeze(1) *
                     torch::tensor({0.5, -4.0}, torch::kFloat64).unsqueeze(0);
  v.mutable_grad() = torch::tensor({-0.25, 8.0, 1e-3}, torch::kFloat64);
  opt->step(0.1);
  const torch::Tensor expected_w = torch::tensor({{-0.1, 0.1}, {0.1, -0.1}, {-0.1, 0.1}}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(w, expected_w, 1e-12, 1e-14)) << w;
  EXPECT_TRUE(torch::allclose(v, torch::tensor({0.1, -0.1, -0.1}, torch::kFloat64), 1e-12, 1e-14)) << v;
}

TEST(OptimAdafactor, UpdateClippingByRms) {
  // By hand, second step of a vector with g1 = (1, 1), g2 = (10, 0): beta2_2 = 1 - 2^-0.8 = 0.42565;
  // V = (0.42565 + 0.57435*100, 0.42565) -> U = (10/sqrt(57.8606), 0) = (1.31465, 0), RMS(U) = 0.92959:
  // no clip at threshold 1, and at threshold 0.5 U is scaled by 0.5/0.92959.
  for (double threshold : {1.0, 0.5}) {
    OptimConfig c = adafactor_config();
    c.adafactor_clip_threshold = threshold;
    torch::Tensor v = torch::zeros({2}, torch::kFloat64);
    auto opt = make_optimizer(c, {{"v", v}});
    v.mutable_grad() = torch::ones({2}, torch::kFloat64);
    opt->step(1.0);
    v.zero_();
    v.mutable_grad() = torch::tensor({10.0, 0.0}, torch::kFloat64);
    opt->step(1.0);
    const double b2 = 1 - std::pow(2.0, -0.8);
    const double u0 = 10 / std::sqrt(b2 + (1 - b2) * 100);
    const double rms_u = u0 / std::sqrt(2.0);
    const double scale = std::max(1.0, rms_u / threshold);
    EXPECT_NEAR(v[0].item<double>(), -u0 / scale, 1e-12) << "threshold " << threshold;
    EXPECT_NEAR(v[1].item<double>(), 0.0, 1e-12);
  }
}

TEST(OptimAdafactor, MatchesReferenceInFloat64) {
  struct Variant {
    const char* what;
    void (*apply)(OptimConfig&);
  };
  const Variant variants[] = {
      {"defaults (T5/Ankh: explicit lr, no momentum)", [](OptimConfig&) {}},
      {"relative step + scale_parameter (HF defaults)",
       [](OptimConfig& c) {
         c.adafactor_relative_step = true;
         c.adafactor_scale_parameter = true;
       }},
      {"momentum + weight decay", [](OptimConfig& c) {
         c.adafactor_beta1 = 0.9;
         c.weight_decay = 0.1;
       }},
      {"tight update clipping + scale_parameter + decay", [](OptimConfig& c) {
         c.adafactor_clip_threshold = 0.3;
         c.adafactor_scale_parameter = true;
         c.weight_decay = 0.05;
       }},
      {"slower decay exponent", [](OptimConfig& c) { c.adafactor_decay = -0.5; }},
  };
  for (const auto& v : variants) {
    OptimConfig c = adafactor_config();
    v.apply(c);
    EXPECT_LT(max_relative_difference(c, torch::kFloat64, 5), 1e-12) << v.what;
    EXPECT_LT(max_relative_difference(c, torch::kFloat64, 5, /*skip_step=*/3), 1e-12) << v.what << ", one gradient missing";
  }
}

TEST(OptimAdafactor, MatchesReferenceInFloat32) {
  OptimConfig c = adafactor_config();
  c.adafactor_scale_parameter = true;
  c.adafactor_beta1 = 0.5;
  c.weight_decay = 0.1;
  EXPECT_LT(max_relative_difference(c, torch::kFloat32, 5), 1e-5);
  EXPECT_LT(max_relative_difference(c, torch::kFloat32, 5, /*skip_step=*/2), 1e-5);
}

TEST(OptimAdafactor, FactorsMatricesOnlyAndKeepsStateFp32) {
  OptimConfig c = adafactor_config();
  torch::Tensor w = torch::zeros({4, 3}, torch::kBFloat16), b = torch::zeros({2, 5, 3}), v = torch::zeros({4});
  auto opt = make_optimizer(c, {{"w.weight", w}, {"b.weight", b}, {"v", v}});
  const NamedTensors state = opt->state_tensors();
  std::vector<std::string> names;
  for (const auto& [name, t] : state) {
    names.push_back(name);
    if (name != "adafactor.step") {
      EXPECT_EQ(t.scalar_type(), torch::kFloat32) << name;
    }
  }
  const std::vector<std::string> expected = {"adafactor.col.b.weight", "adafactor.col.w.weight", "adafactor.row.b.weight",
                                             "adafactor.row.w.weight", "adafactor.sq.v",         "adafactor.step"};
  EXPECT_EQ(names, expected);  // in name order
  EXPECT_EQ(state.at("adafactor.row.w.weight").sizes(), torch::IntArrayRef({4}));
  EXPECT_EQ(state.at("adafactor.col.w.weight").sizes(), torch::IntArrayRef({3}));
  EXPECT_EQ(state.at("adafactor.row.b.weight").sizes(), torch::IntArrayRef({2, 5}));
  EXPECT_EQ(state.at("adafactor.col.b.weight").sizes(), torch::IntArrayRef({2, 3}));
  // A bf16 parameter is updated in place through an fp32 working copy.
  const void* ptr = w.data_ptr();
  w.mutable_grad() = torch::ones({4, 3}, torch::kBFloat16);
  opt->step(0.5);
  EXPECT_EQ(w.data_ptr(), ptr);
  EXPECT_TRUE(torch::allclose(w.to(torch::kFloat32), torch::full({4, 3}, -0.5)));
}

TEST(OptimAdafactor, DecaySkippedOnNorms) {
  // Zero gradients give a zero update, so only the decay moves parameters.
  OptimConfig c = adafactor_config();
  c.weight_decay = 0.5;
  torch::Tensor norm = torch::full({4}, 2.0), w = torch::full({3, 4}, 5.0);
  auto opt = make_optimizer(c, {{"decoder.final_layer_norm.weight", norm}, {"lm_head.weight", w}});
  norm.mutable_grad() = torch::zeros_like(norm);
  w.mutable_grad() = torch::zeros_like(w);
  opt->step(0.1);
  EXPECT_TRUE(torch::equal(norm, torch::full({4}, 2.0)));
  EXPECT_TRUE(torch::allclose(w, torch::full({3, 4}, 5.0 * (1 - 0.1 * 0.5))));
}

TEST(OptimAdafactor, StateRoundTripContinuesBitIdentically) {
  OptimConfig c = adafactor_config();
  c.adafactor_beta1 = 0.9;
  c.adafactor_scale_parameter = true;
  c.weight_decay = 0.01;
  torch::manual_seed(5);
  // shared.weight and lm_head.weight share a group: their state lives in one stacked buffer.
  std::vector<torch::Tensor> params = {torch::randn({6, 4}), torch::randn({6}), torch::randn({6, 4})};
  const std::vector<std::string> names = {"shared.weight", "encoder.final_layer_norm.weight", "lm_head.weight"};
  auto make = [&](std::vector<torch::Tensor>& ps) {
    return make_optimizer(c, {{names[0], ps[0]}, {names[1], ps[1]}, {names[2], ps[2]}});
  };
  auto set_grads = [&](std::vector<torch::Tensor>& ps, int t) {
    for (int i = 0; i < 3; ++i) ps[i].mutable_grad() = grad_for(ps[i], i, t);
  };
  auto opt = make(params);
  for (int t = 1; t <= 3; ++t) {
    set_grads(params, t);
    opt->step(1e-2);
  }
  NamedTensors saved;
  for (const auto& [name, t] : opt->state_tensors()) saved.emplace(name, t.clone());
  EXPECT_EQ(saved.size(), 1u + 3 + 2 + 3);  // step, row/col/exp_avg, sq/exp_avg, row/col/exp_avg
  std::vector<torch::Tensor> resumed = {params[0].clone(), params[1].clone(), params[2].clone()};
  auto opt2 = make(resumed);
  opt2->load_state_tensors(saved);
  EXPECT_EQ(opt2->step_count(), 3);
  for (int t = 4; t <= 7; ++t) {
    set_grads(params, t);
    set_grads(resumed, t);
    opt->step(1e-2);
    opt2->step(1e-2);
  }
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(torch::equal(params[i], resumed[i])) << names[i];
}

TEST(OptimAdafactor, UpdatesViewsIntoAFlatBufferInPlace) {
  torch::Tensor flat = torch::zeros({24});
  torch::Tensor a = flat.narrow(0, 0, 12).view({3, 4}), b = flat.narrow(0, 12, 12).view({3, 4});
  auto opt = make_optimizer(adafactor_config(), {{"a.weight", a}, {"b.weight", b}});
  a.mutable_grad() = torch::ones({3, 4});
  b.mutable_grad() = -torch::ones({3, 4});
  opt->step(0.25);  // first step: -lr * sign(g)
  EXPECT_TRUE(torch::allclose(flat.narrow(0, 0, 12), torch::full({12}, -0.25)));
  EXPECT_TRUE(torch::allclose(flat.narrow(0, 12, 12), torch::full({12}, 0.25)));
}

TEST(OptimAdafactor, LoadRejectsAdamWState) {
  auto adafactor = make_optimizer(adafactor_config(), {{"w.weight", torch::zeros({2, 2})}});
  OptimConfig a = adafactor_config();
  a.name = OptimizerKind::AdamW;
  auto adamw = make_optimizer(a, {{"w.weight", torch::zeros({2, 2})}});
  try {
    adafactor->load_state_tensors(adamw->state_tensors());
    FAIL() << "expected a CheckpointError";
  } catch (const ankh::core::CheckpointError& e) {
    const std::string what = e.what_text();
    EXPECT_NE(what.find("missing 'adafactor.step'"), std::string::npos) << what;
    EXPECT_NE(what.find("unexpected 'adamw.exp_avg.w.weight'"), std::string::npos) << what;
  }
  EXPECT_EQ(adafactor->step_count(), 0);
}

TEST(OptimAdafactor, GroupedUpdateEqualsPerParameterUpdate) {
  // Three same-shaped matrices and two vectors: one group each (default), groups capped at two
  // matrices (70 elements), and no grouping at all must give the same parameters.
  OptimConfig c = adafactor_config();
  c.adafactor_scale_parameter = true;
  c.adafactor_beta1 = 0.5;
  c.weight_decay = 0.1;
  const std::vector<std::string> names = {"a.weight", "b.layer_norm.weight", "c.weight", "d", "e"};
  auto run = [&](int64_t max_group_elements) {
    torch::manual_seed(11);
    std::vector<torch::Tensor> ps = {torch::randn({5, 7}, torch::kFloat64), torch::randn({5, 7}, torch::kFloat64),
                                     torch::randn({5, 7}, torch::kFloat64), torch::randn({4}, torch::kFloat64),
                                     torch::randn({4}, torch::kFloat64)};
    NamedParams named;
    for (size_t i = 0; i < ps.size(); ++i) named.emplace_back(names[i], ps[i]);
    Adafactor opt(c, named, max_group_elements);
    for (int t = 1; t <= 4; ++t) {
      for (size_t i = 0; i < ps.size(); ++i) ps[i].mutable_grad() = grad_for(ps[i], static_cast<int>(i), t);
      opt.step(1e-2);
    }
    return ps;
  };
  const auto grouped = run(Adafactor::kMaxGroupElements), capped = run(70), alone = run(0);
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_TRUE(torch::allclose(grouped[i], alone[i], 1e-13, 1e-15)) << names[i];
    EXPECT_TRUE(torch::allclose(capped[i], alone[i], 1e-13, 1e-15)) << names[i];
  }
}
