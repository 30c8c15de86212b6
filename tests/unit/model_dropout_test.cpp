// Per-sample dropout (trainer/model/sample_dropout.h, docs/model.md "Dropout"): a sample's masks
// depend on (seed, step, global position, site, coordinates) only, not on the other samples of
// its micro-batch or its padding; the drop rate is p and masks of different keys and sites are
// uncorrelated; the model gives a sample the same logits in any micro-batch; activation
// checkpointing recomputes the same masks; eval mode is deterministic and equals dropout 0.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/error.h"
#include "data/batch.h"
#include "data/vocab.h"
#include "trainer/model/loss.h"
#include "trainer/model/sample_dropout.h"
#include "trainer/model/t5_model.h"
#include "tests/support/test_support.h"

namespace ankh::model {
namespace {

const torch::Device kCpu(torch::kCPU);

DropoutKeys keys_of(const std::vector<uint64_t>& keys) { return DropoutKeys(keys, kCpu); }

// Pearson correlation of two boolean masks of the same shape.
double correlation(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor x = a.to(torch::kDouble).flatten(), y = b.to(torch::kDouble).flatten();
  const torch::Tensor dx = x - x.mean(), dy = y - y.mean();
  return (dx * dy).sum().item<double>() / std::sqrt((dx * dx).sum().item<double>() * (dy * dy).sum().item<double>());
}

TEST(Dropout, SiteIdsAreDistinct) {
  std::set<uint32_t> ids;
  int count = 0;
  for (bool decoder : {false, true})
    for (int64_t layer : {0, 1, 2, 47, 1000})
      for (uint32_t point = 0; point <= 7; ++point, ++count)
        ids.insert(dropout_site(decoder, layer, static_cast<DropoutPoint>(point)));
  EXPECT_EQ(static_cast<int>(ids.size()), count);
  EXPECT_THROW(dropout_site(false, -1, DropoutPoint::Final), core::Error);
}

TEST(Dropout, TensorHashMatchesTheScalarReference) {
  const std::vector<uint64_t> raw = {0, 1, 0xFFFFFFFFFFFFFFFFULL, sample_dropout_key(5, 3, 17)};
  const DropoutKeys keys = keys_of(raw);
  const uint32_t site = dropout_site(true, 3, DropoutPoint::CrossAttentionWeights);
  for (double p : {0.1, 0.5, 0.9}) {
    const torch::Tensor keep = sample_dropout_keep({4, 3, 5, 7}, keys, site, p);
    const auto k = keep.accessor<bool, 4>();
    for (int64_t b = 0; b < 4; ++b)
      for (int64_t h = 0; h < 3; ++h)
        for (int64_t i = 0; i < 5; ++i)
          for (int64_t j = 0; j < 7; ++j)
            ASSERT_EQ(!k[b][h][i][j], sample_dropout_drops(raw[static_cast<size_t>(b)], site, {h, i, j}, p))
                << b << " " << h << " " << i << " " << j << " p=" << p;
  }
}

TEST(Dropout, MaskOfASampleIgnoresItsBatchAndPadding) {
  const uint64_t a = sample_dropout_key(11, 4, 100), other1 = sample_dropout_key(11, 4, 7),
                 other2 = sample_dropout_key(11, 4, 250);
  const uint32_t site = dropout_site(false, 2, DropoutPoint::FeedForwardInner);
  // [B, L, D]: alone with 40 positions, or in the middle of three padded to 64.
  const torch::Tensor alone = sample_dropout_keep({1, 40, 96}, keys_of({a}), site, 0.1);
  const torch::Tensor batched = sample_dropout_keep({3, 64, 96}, keys_of({other1, a, other2}), site, 0.1);
  EXPECT_TRUE(torch::equal(alone[0], batched[1].slice(0, 0, 40)));
  EXPECT_FALSE(torch::equal(batched[0], batched[1]));
  // Attention weights [B, heads, Lq, Lk], padded along both lengths.
  const uint32_t attention = dropout_site(true, 0, DropoutPoint::SelfAttentionWeights);
  const torch::Tensor w_alone = sample_dropout_keep({1, 4, 9, 13}, keys_of({a}), attention, 0.2);
  const torch::Tensor w_batched = sample_dropout_keep({3, 4, 20, 31}, keys_of({other2, other1, a}), attention, 0.2);
  EXPECT_TRUE(torch::equal(w_alone[0], w_batched[2].slice(1, 0, 9).slice(2, 0, 13)));
}

TEST(Dropout, SamplesSitesAndStepsGetDifferentMasks) {
  const uint32_t site = dropout_site(false, 0, DropoutPoint::SelfAttentionOutput);
  const std::vector<int64_t> shape = {1, 32, 64};
  auto mask = [&](uint64_t seed, int64_t step, int64_t position, uint32_t s) {
    return sample_dropout_keep(shape, keys_of({sample_dropout_key(seed, step, position)}), s, 0.1);
  };
  const torch::Tensor base = mask(1, 2, 3, site);
  EXPECT_TRUE(torch::equal(base, mask(1, 2, 3, site)));  // a function, not a state
  EXPECT_FALSE(torch::equal(base, mask(2, 2, 3, site)));  // seed
  EXPECT_FALSE(torch::equal(base, mask(1, 3, 3, site)));  // step
  EXPECT_FALSE(torch::equal(base, mask(1, 2, 4, site)));  // sample
  EXPECT_FALSE(torch::equal(base, mask(1, 2, 3, dropout_site(false, 0, DropoutPoint::FeedForwardOutput))));
  EXPECT_FALSE(torch::equal(base, mask(1, 2, 3, dropout_site(false, 1, DropoutPoint::SelfAttentionOutput))));
  EXPECT_FALSE(torch::equal(base, mask(1, 2, 3, dropout_site(true, 0, DropoutPoint::SelfAttentionOutput))));
}

TEST(Dropout, DropRateIsP) {
  // 64 samples x 256 x 256 = 4.2M elements: the standard error of the rate is below 2.5e-4.
  std::vector<uint64_t> raw;
  for (int64_t i = 0; i < 64; ++i) raw.push_back(sample_dropout_key(3, 9, i));
  const DropoutKeys keys = keys_of(raw);
  for (double p : {0.01, 0.1, 0.5}) {
    const torch::Tensor keep = sample_dropout_keep({64, 256, 256}, keys, dropout_site(false, 5, DropoutPoint::FeedForwardInner), p);
    const double n = static_cast<double>(keep.numel());
    const double rate = 1.0 - keep.to(torch::kDouble).mean().item<double>();
    const double se = std::sqrt(p * (1 - p) / n);
    EXPECT_LT(std::abs(rate - p), 4 * se) << "p=" << p << " rate=" << rate;
    // Per sample, per row and per column too (a sample or a coordinate with a biased rate).
    const torch::Tensor drop = keep.logical_not().to(torch::kDouble);
    auto worst = [&](std::vector<int64_t> dims) { return (drop.mean(dims) - p).abs().max().item<double>(); };
    const double se_sample = std::sqrt(p * (1 - p) / (256.0 * 256.0));
    EXPECT_LT(worst({1, 2}), 5 * se_sample) << "p=" << p;  // per sample
    const double se_column = std::sqrt(p * (1 - p) / (64.0 * 256.0));
    EXPECT_LT(worst({0, 1}), 5 * se_column) << "p=" << p;  // per last-axis coordinate
    EXPECT_LT(worst({0, 2}), 5 * se_column) << "p=" << p;  // per middle-axis coordinate
  }
}

TEST(Dropout, MasksAreUncorrelated) {
  const double p = 0.1;
  const std::vector<int64_t> shape = {16, 128, 256};  // 524,288 elements: 1/sqrt(n) = 1.4e-3
  const double bound = 5.0 / std::sqrt(16.0 * 128 * 256);
  std::vector<uint64_t> raw, shifted;
  for (int64_t i = 0; i < 16; ++i) {
    raw.push_back(sample_dropout_key(1, 1, i));
    shifted.push_back(sample_dropout_key(1, 1, i + 16));
  }
  const uint32_t s1 = dropout_site(false, 0, DropoutPoint::FeedForwardInner);
  const uint32_t s2 = dropout_site(false, 0, DropoutPoint::FeedForwardOutput);
  const uint32_t s3 = dropout_site(false, 1, DropoutPoint::FeedForwardInner);
  const torch::Tensor a = sample_dropout_keep(shape, keys_of(raw), s1, p);
  EXPECT_LT(std::abs(correlation(a, sample_dropout_keep(shape, keys_of(raw), s2, p))), bound);      // other site
  EXPECT_LT(std::abs(correlation(a, sample_dropout_keep(shape, keys_of(raw), s3, p))), bound);      // other layer
  EXPECT_LT(std::abs(correlation(a, sample_dropout_keep(shape, keys_of(shifted), s1, p))), bound);  // other samples
  // Neighbours inside one mask: along the last axis, along the middle one, across samples.
  EXPECT_LT(std::abs(correlation(a.slice(2, 0, 255), a.slice(2, 1, 256))), bound);
  EXPECT_LT(std::abs(correlation(a.slice(1, 0, 127), a.slice(1, 1, 128))), bound);
  EXPECT_LT(std::abs(correlation(a.slice(0, 0, 15), a.slice(0, 1, 16))), bound);
}

TEST(Dropout, ScalesKeptElementsAndZeroesTheOthers) {
  const DropoutKeys keys = keys_of({42, 43});
  const uint32_t site = dropout_site(false, 0, DropoutPoint::Embeddings);
  const torch::Tensor x = torch::randn({2, 10, 16}, torch::requires_grad());
  const torch::Tensor y = sample_dropout(x, keys, site, 0.25);
  const torch::Tensor keep = sample_dropout_keep({2, 10, 16}, keys, site, 0.25);
  EXPECT_TRUE(torch::allclose(y, torch::where(keep, x / 0.75, torch::zeros_like(x))));
  y.sum().backward();
  EXPECT_TRUE(torch::allclose(x.grad(), keep.to(torch::kFloat) / 0.75));
  EXPECT_TRUE(torch::equal(sample_dropout(x, keys, site, 0.0), x));
  EXPECT_THROW(sample_dropout(x, keys_of({1, 2, 3}), site, 0.1), core::Error);  // 3 keys for 2 rows
  EXPECT_THROW(sample_dropout(x, keys, site, 1.0), core::Error);
}

// --- The model ---

ModelConfig tiny_config(double dropout) {
  ModelConfig c = testing::tiny_model_config();
  c.dropout = dropout;
  return c;
}

T5Model make_model(const ModelConfig& c) {
  T5Model m(c);
  m->init_weights(5);
  m->set_dropout_seed(1234);
  m->train();
  return m;
}

struct Sample {
  torch::Tensor input, target;  // 1-D: encoder ids ending in </s>, decoder labels ending in </s>
  int64_t position = 0;
};

Sample make_sample(int64_t enc_len, int64_t dec_len, int64_t position, int64_t seed) {
  torch::manual_seed(seed);
  Sample s;
  s.input = torch::randint(data::kFirstResidue, data::kFirstResidue + 20, {enc_len}, torch::kLong);
  s.input[enc_len - 1] = data::kEos;
  s.target = torch::randint(data::kFirstResidue, data::kFirstResidue + 20, {dec_len}, torch::kLong);
  s.target[dec_len - 1] = data::kEos;
  s.position = position;
  return s;
}

// A padded micro-batch of `samples` at `step`, as the loader's collate makes it.
data::Batch collate(const std::vector<Sample>& samples, int64_t step) {
  int64_t le = 0, ld = 0;
  for (const Sample& s : samples) {
    le = std::max(le, s.input.size(0));
    ld = std::max(ld, s.target.size(0));
  }
  const auto rows = static_cast<int64_t>(samples.size());
  data::Batch b;
  b.input_ids = torch::full({rows, le}, data::kPad, torch::kLong);
  b.attention_mask = torch::zeros({rows, le}, torch::kLong);
  b.labels = torch::full({rows, ld}, data::kIgnoreLabel, torch::kLong);
  b.decoder_input_ids = torch::full({rows, ld}, data::kPad, torch::kLong);
  b.decoder_attention_mask = torch::zeros({rows, ld}, torch::kLong);
  for (int64_t r = 0; r < rows; ++r) {
    const Sample& s = samples[static_cast<size_t>(r)];
    const int64_t n = s.input.size(0), m = s.target.size(0);
    b.input_ids[r].slice(0, 0, n).copy_(s.input);
    b.attention_mask[r].slice(0, 0, n).fill_(1);
    b.labels[r].slice(0, 0, m).copy_(s.target);
    b.decoder_input_ids[r].slice(0, 1, m).copy_(s.target.slice(0, 0, m - 1));
    b.decoder_attention_mask[r].slice(0, 0, m).fill_(1);
    b.global_positions.push_back(s.position);
  }
  b.step = step;
  b.target_tokens = b.labels.ne(data::kIgnoreLabel).sum().item<int64_t>();
  b.global_target_tokens = b.target_tokens;
  return b;
}

TEST(DropoutModel, ASampleGetsTheSameLogitsInAnyMicroBatch) {
  T5Model m = make_model(tiny_config(0.1));
  torch::NoGradGuard no_grad;
  const Sample a = make_sample(9, 5, 17, 1), b = make_sample(14, 7, 3, 2), c = make_sample(6, 3, 40, 3);
  const torch::Tensor alone = m->forward(collate({a}, 6))[0];                 // [5, vocab]
  const torch::Tensor batched = m->forward(collate({b, a, c}, 6))[1].slice(0, 0, 5);  // padded to 14 / 7
  EXPECT_LT((alone - batched).abs().max().item<double>(), 1e-5);
  EXPECT_TRUE(torch::allclose(alone, batched, 1e-5, 1e-5));  // fp32 rounding of other GEMM shapes
  // The comparison can fail: another step, position or seed, or eval mode, gives other logits.
  EXPECT_FALSE(torch::allclose(alone, m->forward(collate({a}, 7))[0], 1e-3, 1e-3));
  Sample moved = a;
  moved.position = 18;
  EXPECT_FALSE(torch::allclose(alone, m->forward(collate({moved}, 6))[0], 1e-3, 1e-3));
  m->set_dropout_seed(1235);
  EXPECT_FALSE(torch::allclose(alone, m->forward(collate({a}, 6))[0], 1e-3, 1e-3));
  m->set_dropout_seed(1234);
  EXPECT_TRUE(torch::allclose(alone, m->forward(collate({a}, 6))[0], 1e-6, 1e-7));  // and back
  m->eval();
  EXPECT_FALSE(torch::allclose(alone, m->forward(collate({a}, 6))[0], 1e-3, 1e-3));
}

TEST(DropoutModel, TrainingDoesNotUseTheGlobalGenerator) {
  T5Model m = make_model(tiny_config(0.1));
  torch::NoGradGuard no_grad;
  const data::Batch batch = collate({make_sample(9, 5, 1, 1), make_sample(12, 6, 2, 2)}, 3);
  torch::manual_seed(1);
  const torch::Tensor first = m->forward(batch);
  torch::manual_seed(2);
  EXPECT_TRUE(torch::equal(first, m->forward(batch)));
}

// Loss and gradients of one backward of `m` on `batch`.
std::map<std::string, torch::Tensor> gradients(T5Model& m, const data::Batch& batch, double* loss) {
  for (auto& p : m->parameters()) p.mutable_grad() = torch::Tensor();
  const torch::Tensor l = loss_terms(m->forward(batch), batch.labels).loss_sum;
  torch::rand({1000});  // the global generator moves between forward and backward: irrelevant
  l.backward();
  *loss = l.item<double>();
  std::map<std::string, torch::Tensor> grads;
  for (auto& item : m->named_parameters()) grads[item.key()] = item.value().grad().clone();
  return grads;
}

TEST(DropoutModel, ActivationCheckpointingRecomputesTheSameMasks) {
  ModelConfig plain_config = tiny_config(0.1), checkpointed_config = tiny_config(0.1);
  checkpointed_config.activation_checkpointing = true;
  T5Model plain = make_model(plain_config), checkpointed = make_model(checkpointed_config);
  const data::Batch batch = collate({make_sample(10, 6, 5, 4), make_sample(7, 4, 6, 5), make_sample(12, 8, 7, 6)}, 2);
  double loss_plain = 0, loss_checkpointed = 0;
  const auto a = gradients(plain, batch, &loss_plain);
  const auto b = gradients(checkpointed, batch, &loss_checkpointed);
  EXPECT_NEAR(loss_plain, loss_checkpointed, 1e-6 * std::abs(loss_plain));
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, grad] : a)
    EXPECT_TRUE(torch::allclose(grad, b.at(name), 1e-5, 1e-6))
        << name << ": " << (grad - b.at(name)).abs().max().item<double>() << " of " << grad.abs().max().item<double>();
  // Dropout acts on the gradients as well: without it they differ.
  T5Model no_dropout = make_model(tiny_config(0.0));
  double loss_no_dropout = 0;
  const auto c = gradients(no_dropout, batch, &loss_no_dropout);
  EXPECT_GT(std::abs(loss_no_dropout - loss_plain), 1e-3);
}

TEST(DropoutModel, EvalModeIsDeterministicAndEqualsDropoutZero) {
  T5Model with = make_model(tiny_config(0.1)), without = make_model(tiny_config(0.0));
  torch::NoGradGuard no_grad;
  const data::Batch batch = collate({make_sample(9, 5, 1, 1), make_sample(12, 6, 2, 2)}, 3);
  with->eval();
  const torch::Tensor eval1 = with->forward(batch), eval2 = with->forward(batch);
  EXPECT_TRUE(torch::equal(eval1, eval2));
  EXPECT_TRUE(torch::equal(eval1, without->forward(batch)));  // `without` is in train mode: dropout 0
  without->eval();
  EXPECT_TRUE(torch::equal(eval1, without->forward(batch)));
  // No keys, hence no hashing, in eval mode or without dropout.
  EXPECT_FALSE(with->dropout_keys(3, batch.global_positions, 2, kCpu).defined());
  EXPECT_FALSE(without->dropout_keys(3, batch.global_positions, 2, kCpu).defined());
  with->train();
  EXPECT_TRUE(with->dropout_keys(3, batch.global_positions, 2, kCpu).defined());
  EXPECT_THROW(with->dropout_keys(3, {1, 2, 3}, 2, kCpu), core::Error);  // one position per row
}

}  // namespace
}  // namespace ankh::model
