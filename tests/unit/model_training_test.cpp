// The model as the trainer uses it: loss terms, gradients (against finite differences), the
// untrained loss, overfitting one batch, and activation checkpointing.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include <torch/torch.h>

#include "data/batch.h"
#include "data/vocab.h"
#include "trainer/model/activation_checkpoint.h"
#include "trainer/model/loss.h"
#include "trainer/model/precision.h"
#include "trainer/model/t5_model.h"
#include "tests/support/test_support.h"

namespace ankh::model {
namespace {

ModelConfig tiny_config() { return testing::tiny_model_config(); }

// A micro-batch shaped like the `ankh` objective's: residues ending in </s> for the encoder,
// sentinel/residue pairs for the decoder, with padding in the second row.
data::Batch make_batch(int64_t rows, int64_t enc_len, int64_t dec_len, int64_t seed) {
  torch::manual_seed(seed);
  data::Batch b;
  b.input_ids = torch::randint(data::kFirstResidue, data::kFirstResidue + 20, {rows, enc_len}, torch::kLong);
  b.attention_mask = torch::ones({rows, enc_len}, torch::kLong);
  torch::Tensor labels = torch::randint(data::kFirstResidue, data::kFirstResidue + 20, {rows, dec_len}, torch::kLong);
  for (int64_t t = 0; t < dec_len; t += 2) labels.select(1, t).fill_(data::sentinel(t / 2));
  labels.select(1, dec_len - 1).fill_(data::kEos);
  b.decoder_attention_mask = torch::ones({rows, dec_len}, torch::kLong);
  if (rows > 1) {
    b.input_ids[1].slice(0, enc_len - 3).fill_(data::kPad);
    b.attention_mask[1].slice(0, enc_len - 3).fill_(0);
    labels[1].slice(0, dec_len - 2).fill_(data::kIgnoreLabel);
    b.decoder_attention_mask[1].slice(0, dec_len - 2).fill_(0);
  }
  b.labels = labels;
  // Decoder inputs: <pad> then the labels shifted right (padding stays <pad>).
  b.decoder_input_ids = torch::cat({torch::zeros({rows, 1}, torch::kLong), labels.slice(1, 0, dec_len - 1)}, 1)
                            .clamp_min(data::kPad);
  b.target_tokens = b.labels.ne(data::kIgnoreLabel).sum().item<int64_t>();
  return b;
}

TEST(LossTerms, SumsCountsAndAccuracyByHand) {
  torch::Tensor logits = torch::zeros({1, 4, 144});
  logits[0][0][5] = 3.0;   // label 5 (a residue): predicted
  logits[0][1][30] = 1.0;  // label 30 (a sentinel): not a residue
  logits[0][3][8] = 2.0;   // label 7 (a residue): predicted 8
  const torch::Tensor labels = torch::tensor(std::vector<int64_t>{5, 30, data::kIgnoreLabel, 7}).view({1, 4});
  const LossTerms t = loss_terms(logits, labels);
  const double lse3 = std::log(143 + std::exp(3.0)), lse1 = std::log(143 + std::exp(1.0)), lse2 = std::log(143 + std::exp(2.0));
  const double l0 = lse3 - 3.0, l1 = lse1 - 1.0, l3 = lse2 - 0.0;
  EXPECT_NEAR(t.loss_sum.item<double>(), l0 + l1 + l3, 1e-4);
  EXPECT_NEAR(t.residue_loss_sum.item<double>(), l0 + l3, 1e-4);
  EXPECT_EQ(t.residue_count.item<int64_t>(), 2);
  EXPECT_EQ(t.residue_correct.item<int64_t>(), 1);
  EXPECT_TRUE(t.loss_sum.requires_grad() || !logits.requires_grad());
  EXPECT_THROW(loss_terms(logits, labels.view({4})), core::InputError);
}

TEST(Gradients, MatchFiniteDifferencesInFloat64) {
  ModelConfig c = tiny_config();
  c.d_model = 8;
  c.num_heads = 2;
  c.d_kv = 4;
  c.d_ff = 12;
  c.encoder_layers = 1;
  c.decoder_layers = 2;
  c.relative_buckets = 8;
  c.relative_max_distance = 8;
  for (const char* activation : {"gated-gelu", "relu"}) {
    c.activation = *activations().parse(activation);
    T5Model m(c);
    m->init_weights(3);
    m->to(torch::kDouble);
    const data::Batch b = make_batch(2, 9, 6, 4);
    auto loss = [&] { return loss_terms(m->forward(b), b.labels).loss_sum; };
    m->zero_grad();
    loss().backward();

    torch::NoGradGuard no_grad;
    int checked = 0;
    for (auto& item : m->named_parameters()) {
      torch::Tensor p = item.value();
      const torch::Tensor grad = p.grad().reshape({-1});
      torch::Tensor flat = p.view({-1});
      // The entries with the largest gradients, so that every check is meaningful.
      const torch::Tensor picks = std::get<1>(grad.abs().topk(std::min<int64_t>(3, grad.numel())));
      for (int64_t i = 0; i < picks.numel(); ++i) {
        const int64_t j = picks[i].item<int64_t>();
        const double saved = flat[j].item<double>(), eps = 1e-6;
        flat[j] = saved + eps;
        const double up = loss().item<double>();
        flat[j] = saved - eps;
        const double down = loss().item<double>();
        flat[j] = saved;
        const double numeric = (up - down) / (2 * eps), analytic = grad[j].item<double>();
        EXPECT_NEAR(analytic, numeric, 1e-6 + 1e-5 * std::abs(numeric)) << activation << " " << item.key() << "[" << j << "]";
        ++checked;
      }
    }
    EXPECT_GT(checked, 40);
  }
}

TEST(Loss, UntrainedModelIsCloseToUniform) {
  ModelConfig c = tiny_config();
  c.d_model = 128;
  c.d_ff = 256;
  T5Model m(c);
  m->init_weights(1);
  torch::NoGradGuard no_grad;
  const data::Batch b = make_batch(8, 64, 24, 2);
  const LossTerms t = loss_terms(m->forward(b), b.labels);
  const double loss = t.loss_sum.item<double>() / static_cast<double>(b.target_tokens);
  std::printf("untrained loss %.3f, ln(144) = %.3f\n", loss, std::log(144.0));
  // Logits start with unit variance (RMS-normalised hidden state times N(0, 1/d_model) rows):
  // E[loss] = ln(144) + about 1/2.
  EXPECT_GT(loss, std::log(144.0) - 0.1);
  EXPECT_LT(loss, std::log(144.0) + 0.75);
}

TEST(Training, TinyModelOverfitsOneBatch) {
  ModelConfig c = tiny_config();
  c.d_model = 64;
  c.d_ff = 128;
  T5Model m(c);
  m->init_weights(5);
  m->train();
  const data::Batch b = make_batch(4, 24, 12, 6);
  torch::optim::Adam adam(m->parameters(), torch::optim::AdamOptions(3e-3));
  double first = 0, last = 0;
  for (int step = 0; step < 150; ++step) {
    adam.zero_grad();
    const torch::Tensor loss = loss_terms(m->forward(b), b.labels).loss_sum / static_cast<double>(b.target_tokens);
    loss.backward();
    adam.step();
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
    if (step % 50 == 0) std::printf("step %d loss %.4f\n", step, last);
  }
  EXPECT_GT(first, 4.5);
  EXPECT_LT(last, 0.05) << "from " << first;
}

// Gradient of every parameter after one backward, and how often each parameter's hook fired.
struct GradRun {
  std::map<std::string, torch::Tensor> grads;
  std::map<std::string, int> hook_calls;
};

GradRun run_backward(const ModelConfig& c, bool checkpointing, int backward_passes = 1) {
  ModelConfig cc = c;
  cc.activation_checkpointing = checkpointing;
  T5Model m(cc);
  m->init_weights(9);
  m->train();
  GradRun run;
  for (auto& item : m->named_parameters()) {
    const std::string name = item.key();
    item.value().register_hook([&run, name](const torch::Tensor&) { ++run.hook_calls[name]; });
  }
  const data::Batch b = make_batch(3, 12, 8, 10);
  torch::manual_seed(77);  // the same dropout masks in both runs
  for (int i = 0; i < backward_passes; ++i) {
    const torch::Tensor loss = loss_terms(m->forward(b), b.labels).loss_sum;
    loss.backward();
  }
  for (auto& item : m->named_parameters()) run.grads[item.key()] = item.value().grad().clone();
  return run;
}

TEST(ActivationCheckpointing, GradientsAndHooksMatchTheOrdinaryBackward) {
  ModelConfig c = tiny_config();
  c.dropout = 0.1;  // the recomputation must replay the same dropout masks
  const GradRun plain = run_backward(c, false, 2), checkpointed = run_backward(c, true, 2);
  ASSERT_EQ(plain.grads.size(), checkpointed.grads.size());
  for (const auto& [name, grad] : plain.grads) {
    EXPECT_TRUE(torch::allclose(grad, checkpointed.grads.at(name), 1e-5, 1e-6)) << name;
    EXPECT_EQ(plain.hook_calls.at(name), 2) << name;
    EXPECT_EQ(checkpointed.hook_calls.at(name), 2) << name;
  }
}

TEST(ActivationCheckpointing, RecomputationSeesTheSavedInputs) {
  auto w = torch::randn({4, 4}, torch::requires_grad());
  const torch::Tensor x = torch::randn({3, 4}, torch::requires_grad());
  int calls = 0;
  BlockFunction fn = [&](const std::vector<torch::Tensor>& in) {
    ++calls;
    return torch::tanh(torch::matmul(in[0], w)).sum(1, true) * in[1];
  };
  const torch::Tensor scale = torch::full({3, 1}, 2.0);  // no grad: its gradient slot stays empty
  const torch::Tensor y = checkpoint(fn, {x, scale});
  EXPECT_EQ(calls, 1);
  y.sum().backward();
  EXPECT_EQ(calls, 2);
  const torch::Tensor gx = x.grad().clone(), gw = w.grad().clone();
  x.grad().zero_();
  w.grad().zero_();
  fn({x, scale}).sum().backward();
  EXPECT_TRUE(torch::allclose(gx, x.grad()));
  EXPECT_TRUE(torch::allclose(gw, w.grad()));
  {
    torch::NoGradGuard no_grad;  // inference: no node, one call
    EXPECT_FALSE(checkpoint(fn, {x, scale}).requires_grad());
  }
}

TEST(Precision, AutocastGuardRestoresThePreviousState) {
  const AutocastState before = AutocastState::current();
  {
    AutocastGuard guard({true, torch::kBFloat16});
    EXPECT_TRUE(AutocastState::current().enabled);
    EXPECT_EQ(AutocastState::current().dtype, torch::kBFloat16);
  }
  EXPECT_EQ(AutocastState::current().enabled, before.enabled);
  ModelConfig c;
  EXPECT_FALSE(autocast_for(c, torch::kCPU).enabled);  // CPU runs fp32
  c.precision = ankh::model::Precision::Fp32;
  EXPECT_FALSE(autocast_for(c, torch::Device(torch::kCUDA, 0)).enabled);
  c.precision = ankh::model::Precision::Bf16;
  EXPECT_TRUE(autocast_for(c, torch::Device(torch::kCUDA, 0)).enabled);
}

}  // namespace
}  // namespace ankh::model
