// AdamW: agreement with torch::optim::AdamW, the weight-decay rule, in-place updates of views and
// low-precision parameters, and the exact round trip of its state.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "trainer/optim/adamw.h"
#include "trainer/optim/optimizer.h"

using namespace ankh::optim;

namespace {

OptimConfig adamw_config(double weight_decay) {
  OptimConfig c;
  c.name = OptimizerKind::AdamW;
  c.beta1 = 0.8;
  c.beta2 = 0.95;
  c.eps = 1e-6;
  c.weight_decay = weight_decay;
  return c;
}

// Deterministic pseudo-random gradient for parameter `i` at step `t`.
torch::Tensor grad_for(const torch::Tensor& p, int i, int t) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1000 * t + i);
  return torch::randn(p.sizes(), gen, torch::TensorOptions().dtype(torch::kFloat32)).to(p.scalar_type());
}

void set_grads(const std::vector<torch::Tensor>& params, int t) {
  for (size_t i = 0; i < params.size(); ++i) params[i].mutable_grad() = grad_for(params[i], static_cast<int>(i), t);
}

NamedParams named(const std::vector<std::string>& names, const std::vector<torch::Tensor>& params) {
  NamedParams out;
  for (size_t i = 0; i < names.size(); ++i) out.emplace_back(names[i], params[i]);
  return out;
}

}  // namespace

TEST(OptimAdamW, MatchesTorchAdamWOverSeveralSteps) {
  torch::manual_seed(0);
  const std::vector<std::string> names = {"encoder.block.0.layer.0.SelfAttention.q.weight", "lm_head.weight"};
  std::vector<torch::Tensor> ours = {torch::randn({6, 5}), torch::randn({3, 7})};
  std::vector<torch::Tensor> theirs;
  for (auto& p : ours) theirs.push_back(p.clone().requires_grad_(true));
  for (auto& p : ours) p.requires_grad_(true);

  const OptimConfig config = adamw_config(0.1);
  auto opt = make_optimizer(config, named(names, ours));
  torch::optim::AdamW ref(theirs, torch::optim::AdamWOptions(1e-2)
                                      .betas({config.beta1, config.beta2})
                                      .eps(config.eps)
                                      .weight_decay(config.weight_decay));
  const double lrs[] = {1e-2, 3e-2, 2e-2, 5e-3, 1e-2, 4e-2};
  for (int t = 1; t <= 6; ++t) {
    set_grads(ours, t);
    set_grads(theirs, t);
    static_cast<torch::optim::AdamWOptions&>(ref.param_groups()[0].options()).lr(lrs[t - 1]);
    ref.step();
    opt->step(lrs[t - 1]);
  }
  EXPECT_EQ(opt->step_count(), 6);
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_TRUE(torch::allclose(ours[i], theirs[i], 1e-6, 1e-7))
        << names[i] << " max diff " << (ours[i] - theirs[i]).abs().max().item<double>();
    EXPECT_FALSE(torch::equal(ours[i], grad_for(ours[i], 0, 0)));  // it did move
  }
}

TEST(OptimAdamW, WeightDecayRuleExemptsNormsAndVectors) {
  EXPECT_TRUE(exempt_from_weight_decay("encoder.block.0.layer.0.layer_norm.weight", torch::ones({4})));
  EXPECT_TRUE(exempt_from_weight_decay("decoder.final_layer_norm.weight", torch::ones({4})));
  EXPECT_TRUE(exempt_from_weight_decay("some.bias", torch::ones({4})));
  EXPECT_FALSE(exempt_from_weight_decay("shared.weight", torch::ones({4, 4})));
  EXPECT_FALSE(exempt_from_weight_decay("lm_head.weight", torch::ones({4, 4})));
  EXPECT_FALSE(exempt_from_weight_decay(
      "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", torch::ones({32, 4})));
}

TEST(OptimAdamW, DecaySkippedOnNorms) {
  // Zero gradients make the Adam term exactly 0, leaving only the decay to move parameters.
  const std::vector<std::string> names = {"encoder.final_layer_norm.weight", "encoder.block.0.layer.1.layer_norm.weight",
                                          "shared.weight"};
  std::vector<torch::Tensor> params = {torch::full({4}, 2.0), torch::full({4}, 3.0), torch::full({3, 4}, 5.0)};
  for (auto& p : params) p.mutable_grad() = torch::zeros_like(p);
  auto opt = make_optimizer(adamw_config(0.5), named(names, params));
  opt->step(0.1);
  EXPECT_TRUE(torch::equal(params[0], torch::full({4}, 2.0)));
  EXPECT_TRUE(torch::equal(params[1], torch::full({4}, 3.0)));
  EXPECT_TRUE(torch::allclose(params[2], torch::full({3, 4}, 5.0 * (1 - 0.1 * 0.5))));
}

TEST(OptimAdamW, UpdatesViewsAndLowPrecisionParametersInPlace) {
  // Two parameters that are views into one flat buffer, and a bf16 parameter.
  torch::Tensor flat = torch::randn({20});
  torch::Tensor a = flat.narrow(0, 0, 12).view({3, 4});
  torch::Tensor b = flat.narrow(0, 12, 8);
  torch::Tensor half = torch::randn({4, 4}).to(torch::kBFloat16);
  torch::Tensor half_ref = half.to(torch::kFloat32);
  const void* a_ptr = a.data_ptr();
  const void* half_ptr = half.data_ptr();
  const torch::Tensor flat_before = flat.clone();

  auto opt = make_optimizer(adamw_config(0.0), {{"a.weight", a}, {"b", b}, {"h.weight", half}});
  auto ref = make_optimizer(adamw_config(0.0), {{"h.weight", half_ref}});
  for (int t = 1; t <= 3; ++t) {
    set_grads({a, b, half}, t);
    half_ref.mutable_grad() = half.grad().to(torch::kFloat32);
    opt->step(1e-2);
    ref->step(1e-2);
  }
  EXPECT_EQ(a.data_ptr(), a_ptr);
  EXPECT_EQ(half.data_ptr(), half_ptr);
  EXPECT_EQ(half.scalar_type(), torch::kBFloat16);
  EXPECT_FALSE(torch::equal(flat, flat_before));  // the flat buffer saw the updates
  EXPECT_TRUE(torch::equal(flat.narrow(0, 12, 8), b));
  // bf16 keeps ~3 significant digits of the fp32 trajectory.
  EXPECT_TRUE(torch::allclose(half.to(torch::kFloat32), half_ref, 1e-2, 1e-2));
  for (const auto& [name, t] : opt->state_tensors()) {
    if (name != "adamw.step") {
      EXPECT_EQ(t.scalar_type(), torch::kFloat32) << name;
    }
  }
}

TEST(OptimAdamW, ParametersWithoutGradientStayPut) {
  torch::Tensor a = torch::randn({3, 3}), b = torch::randn({3, 3});
  const torch::Tensor b_before = b.clone();
  auto opt = make_optimizer(adamw_config(0.1), {{"a.weight", a}, {"b.weight", b}});
  a.mutable_grad() = torch::ones({3, 3});
  opt->step(1e-2);
  EXPECT_TRUE(torch::equal(b, b_before));
}

TEST(OptimAdamW, StateRoundTripContinuesBitIdentically) {
  torch::manual_seed(1);
  std::vector<torch::Tensor> params = {torch::randn({5, 3}), torch::randn({5})};
  const std::vector<std::string> names = {"x.weight", "x.layer_norm.weight"};
  auto opt = make_optimizer(adamw_config(0.01), named(names, params));
  for (int t = 1; t <= 3; ++t) {
    set_grads(params, t);
    opt->step(1e-2 * t);
  }
  NamedTensors saved;
  for (const auto& [name, t] : opt->state_tensors()) saved.emplace(name, t.clone());
  std::vector<torch::Tensor> resumed;
  for (auto& p : params) resumed.push_back(p.clone());
  auto opt2 = make_optimizer(adamw_config(0.01), named(names, resumed));
  opt2->load_state_tensors(saved);
  EXPECT_EQ(opt2->step_count(), 3);
  for (int t = 4; t <= 6; ++t) {
    set_grads(params, t);
    set_grads(resumed, t);
    opt->step(1e-2 * t);
    opt2->step(1e-2 * t);
  }
  for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(torch::equal(params[i], resumed[i])) << names[i];
}

TEST(OptimAdamW, LoadRejectsMismatchedStateListingEveryProblem) {
  auto opt = make_optimizer(adamw_config(0.0), {{"a.weight", torch::zeros({2, 3})}, {"b", torch::zeros({4})}});
  NamedTensors state = opt->state_tensors();
  NamedTensors bad;
  for (auto& [name, t] : state) {
    if (name == "adamw.exp_avg.a.weight") {
      bad.emplace(name, torch::zeros({3, 2}));  // wrong shape
    } else if (name == "adamw.exp_avg_sq.b") {
      continue;  // missing
    } else {
      bad.emplace(name, t.clone());
    }
  }
  bad.emplace("adamw.exp_avg.c", torch::zeros({1}));  // unexpected
  try {
    opt->load_state_tensors(bad);
    FAIL() << "expected a CheckpointError";
  } catch (const ankh::core::CheckpointError& e) {
    const std::string what = e.what_text();
    EXPECT_NE(what.find("3 mismatch"), std::string::npos) << what;
    EXPECT_NE(what.find("'adamw.exp_avg.a.weight' is Float[3, 2], expected Float[2, 3]"), std::string::npos) << what;
    EXPECT_NE(what.find("missing 'adamw.exp_avg_sq.b'"), std::string::npos) << what;
    EXPECT_NE(what.find("unexpected 'adamw.exp_avg.c'"), std::string::npos) << what;
  }
  // A negative step count is corrupt.
  NamedTensors negative = state;
  negative.at("adamw.step") = torch::tensor(int64_t{-1}).reshape({});
  EXPECT_THROW(opt->load_state_tensors(negative), ankh::core::CheckpointError);
}

TEST(OptimAdamW, RejectsBadParameterLists) {
  const OptimConfig c = adamw_config(0.0);
  EXPECT_THROW(make_optimizer(c, {}), ankh::core::Error);
  EXPECT_THROW(make_optimizer(c, {{"a", torch::zeros({2})}, {"a", torch::zeros({2})}}), ankh::core::Error);
  EXPECT_THROW(make_optimizer(c, {{"a", torch::Tensor()}}), ankh::core::Error);
  EXPECT_THROW(make_optimizer(c, {{"a", torch::zeros({2}, torch::kInt64)}}), ankh::core::Error);
}

TEST(OptimAdamW, EstimatesStateBytes) {
  OptimConfig c = adamw_config(0.0);
  const std::vector<std::vector<int64_t>> shapes = {{10, 20}, {10}};
  EXPECT_EQ(estimate_state_bytes(c, shapes), (2 * 210) * 4 + 8);
  c.name = OptimizerKind::Adafactor;
  EXPECT_EQ(estimate_state_bytes(c, shapes), (10 + 20 + 10) * 4 + 8);
  c.adafactor_beta1 = 0.9;
  EXPECT_EQ(estimate_state_bytes(c, shapes), (10 + 20 + 10 + 210) * 4 + 8);
}
