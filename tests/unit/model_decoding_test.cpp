// Incremental decoding (decoder_cache.h): logits of start_decoding + decode_step equal those of
// the full teacher-forced decode() over the whole prefix, for batched inputs with ragged encoder
// lengths, several decoding rows per input, tied/untied embeddings, gated and relu feed-forwards,
// fp32 and float64, and across reorder() (beam search: rows duplicated, dropped, permuted).
#include <gtest/gtest.h>

#include <vector>

#include <torch/torch.h>

#include "core/error.h"
#include "data/vocab.h"
#include "trainer/model/t5_model.h"
#include "tests/support/test_support.h"

namespace ankh::model {
namespace {

ModelConfig config(bool tied, Activation activation) {
  ModelConfig c = testing::tiny_model_config();
  c.tie_embeddings = tied;
  c.activation = activation;
  c.decoder_layers = 3;
  c.relative_max_distance = 12;  // decoding past it exercises the log-spaced and last buckets
  return c;
}

struct Inputs {
  torch::Tensor ids, mask;
};

// Three inputs of lengths 11, 6 and 3, padded to 11.
Inputs ragged_inputs() {
  torch::manual_seed(11);
  const std::vector<int64_t> lengths = {11, 6, 3};
  torch::Tensor ids = torch::randint(data::kFirstResidue, data::kFirstResidue + 20, {3, 11}, torch::kLong);
  torch::Tensor mask = torch::zeros({3, 11}, torch::kLong);
  for (int64_t b = 0; b < 3; ++b) {
    mask[b].narrow(0, 0, lengths[b]).fill_(1);
    ids[b].narrow(0, lengths[b], 11 - lengths[b]).fill_(data::kPad);
  }
  return {ids, mask};
}

double max_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// Decodes `steps` tokens step by step and checks every step against decode() of the prefix.
// history [N, steps] holds the fed tokens (column 0: <pad>); reorder_at >= 0 applies `keep` to
// the cache and the histories after that many steps.
void check_against_full(T5Model& m, torch::ScalarType dtype, double tolerance, int64_t steps, int64_t reorder_at = -1,
                        const std::vector<int64_t>& keep = {}) {
  torch::NoGradGuard no_grad;
  const Inputs in = ragged_inputs();
  const torch::Tensor hidden = m->encode(in.ids, in.mask);
  ASSERT_EQ(hidden.scalar_type(), dtype);
  torch::Tensor rows = torch::tensor(std::vector<int64_t>{0, 0, 1, 2, 2, 2}, torch::kLong);
  torch::manual_seed(5);
  torch::Tensor history = torch::randint(data::kFirstResidue, data::kFirstResidue + 20, {rows.size(0), steps}, torch::kLong);
  history.select(1, 0).fill_(data::kPad);

  DecoderCache cache = m->start_decoding(hidden, in.mask, rows);
  for (int64_t t = 0; t < steps; ++t) {
    if (t == reorder_at) {
      const torch::Tensor index = torch::tensor(keep, torch::kLong);
      m->reorder(cache, index);
      rows = rows.index_select(0, index);
      history = history.index_select(0, index);
      ASSERT_TRUE(torch::equal(cache.rows, rows));
    }
    const torch::Tensor step = m->decode_step(cache, history.select(1, t));
    ASSERT_EQ(cache.length, t + 1);
    ASSERT_EQ(step.sizes(), (std::vector<int64_t>{rows.size(0), m->config().vocab_size}));
    ASSERT_EQ(step.scalar_type(), dtype);
    const torch::Tensor full = m->decode(history.narrow(1, 0, t + 1), torch::Tensor(), hidden.index_select(0, rows),
                                         in.mask.index_select(0, rows))
                                   .select(1, t);
    const double scale = std::max(1.0, full.abs().max().item<double>());
    EXPECT_LE(max_difference(step, full), tolerance * scale) << "step " << t;
    for (size_t l = 0; l < cache.self_k.size(); ++l)
      ASSERT_EQ(cache.self_k[l].sizes(),
                (std::vector<int64_t>{rows.size(0), m->config().num_heads, t + 1, m->config().d_kv}));
  }
}

struct Variant {
  bool tied;
  Activation activation;
};
const Variant kVariants[] = {{false, Activation::GatedGelu}, {true, Activation::GatedGelu},
                             {false, Activation::Relu}, {true, Activation::Relu}};

TEST(Decoding, CachedLogitsEqualFullDecodeFp32) {
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(::testing::Message() << "tied " << v.tied << " activation " << static_cast<int>(v.activation));
    T5Model m(config(v.tied, v.activation));
    m->init_weights(3);
    m->eval();
    check_against_full(m, torch::kFloat, 1e-6, 24);
  }
}

TEST(Decoding, CachedLogitsEqualFullDecodeFloat64) {
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(::testing::Message() << "tied " << v.tied << " activation " << static_cast<int>(v.activation));
    T5Model m(config(v.tied, v.activation));
    m->init_weights(3);
    m->to(torch::kDouble);
    m->eval();
    check_against_full(m, torch::kDouble, 1e-12, 24);
  }
}

TEST(Decoding, ReorderDuplicatesDropsAndPermutesRows) {
  for (const Variant& v : {kVariants[0], kVariants[3]}) {
    T5Model m(config(v.tied, v.activation));
    m->init_weights(4);
    m->eval();
    // Drop rows 1 and 4, duplicate row 2, permute; then grow again past the store's capacity.
    check_against_full(m, torch::kFloat, 1e-6, 20, 7, {5, 2, 0, 2, 3});
    // Every row of input 0 and 2 dropped but one: ragged groups, an input without rows.
    check_against_full(m, torch::kFloat, 1e-6, 10, 4, {3, 3, 3, 2});
    m->to(torch::kDouble);
    check_against_full(m, torch::kDouble, 1e-12, 70, 65, {1, 0, 5, 5});  // reorder after the store grew
  }
}

TEST(Decoding, BiasRowIsTheFullBiasRow) {
  T5Model m(config(false, Activation::GatedGelu));
  m->init_weights(2);
  Attention a = m->decoder->block[0]->as<BlockImpl>()->self_attention();
  const torch::Tensor full = a->compute_bias(40, 40);
  for (int64_t t : {0, 1, 7, 20, 39})
    EXPECT_TRUE(torch::equal(a->compute_bias_row(t, t + 1).squeeze(2), full.select(2, t).narrow(2, 0, t + 1)));
}

TEST(Decoding, NeedsEvalModeAndOneTokenPerRow) {
  T5Model m(config(false, Activation::Relu));
  m->init_weights(2);
  const Inputs in = ragged_inputs();
  const torch::Tensor hidden = m->encode(in.ids, in.mask).detach();
  const torch::Tensor rows = torch::tensor(std::vector<int64_t>{0, 1, 2}, torch::kLong);
  EXPECT_THROW(m->start_decoding(hidden, in.mask, rows), core::Error);
  m->eval();
  DecoderCache cache = m->start_decoding(hidden, in.mask, rows);
  EXPECT_THROW(m->decode_step(cache, torch::zeros({2}, torch::kLong)), core::Error);
  EXPECT_THROW(m->start_decoding(hidden, in.mask, torch::tensor(std::vector<int64_t>{0, 3}, torch::kLong)),
               core::Error);
  const torch::Tensor logits = m->decode_step(cache, torch::zeros({3}, torch::kLong));
  EXPECT_FALSE(logits.requires_grad());
}

}  // namespace
}  // namespace ankh::model
