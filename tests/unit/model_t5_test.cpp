// The encoder–decoder's structure and semantics: Hugging Face names and shapes, parameter
// counts, initialisation, masks (padding, causality), tied embeddings, attention kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "data/batch.h"
#include "data/vocab.h"
#include "trainer/model/attention.h"
#include "trainer/model/attention_mask.h"
#include "trainer/model/model_stats.h"
#include "trainer/model/t5_model.h"
#include "tests/support/test_support.h"

namespace ankh::model {
namespace {

// The shared tiny model with an odd feed-forward width and encoder depth (shapes that differ).
ModelConfig small_config() {
  ModelConfig c = testing::tiny_model_config();
  c.d_ff = 48;
  c.encoder_layers = 3;
  return c;
}

T5Model make_model(const ModelConfig& c, uint64_t seed = 7) {
  T5Model m(c);
  m->init_weights(seed);
  m->eval();
  return m;
}

// Random residues, [rows, length] int64.
torch::Tensor residues(int64_t rows, int64_t length, int64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(data::kFirstResidue, data::kFirstResidue + 20, {rows, length}, torch::kLong);
}

std::map<std::string, std::vector<int64_t>> shapes(const T5Model& m) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& p : m->named_parameters()) out[p.key()] = p.value().sizes().vec();
  return out;
}

TEST(T5Model, ParameterNamesAndShapesAreHuggingFaces) {
  const ModelConfig c = small_config();
  const auto s = shapes(T5Model(c));
  using V = std::vector<int64_t>;
  std::map<std::string, V> expected = {
      {"shared.weight", {144, 32}},
      {"lm_head.weight", {144, 32}},
      {"encoder.final_layer_norm.weight", {32}},
      {"decoder.final_layer_norm.weight", {32}},
      {"encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", {16, 4}},
      {"decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", {16, 4}},
  };
  for (int i = 0; i < 3; ++i) {
    const std::string b = "encoder.block." + std::to_string(i) + ".layer.";
    for (const char* w : {"q", "k", "v"}) expected[b + "0.SelfAttention." + w + ".weight"] = {32, 32};
    expected[b + "0.SelfAttention.o.weight"] = {32, 32};
    expected[b + "0.layer_norm.weight"] = {32};
    expected[b + "1.DenseReluDense.wi_0.weight"] = {48, 32};
    expected[b + "1.DenseReluDense.wi_1.weight"] = {48, 32};
    expected[b + "1.DenseReluDense.wo.weight"] = {32, 48};
    expected[b + "1.layer_norm.weight"] = {32};
  }
  for (int i = 0; i < 2; ++i) {
    const std::string b = "decoder.block." + std::to_string(i) + ".layer.";
    for (const char* w : {"q", "k", "v", "o"}) {
      expected[b + "0.SelfAttention." + w + ".weight"] = {32, 32};
      expected[b + "1.EncDecAttention." + w + ".weight"] = {32, 32};
    }
    expected[b + "0.layer_norm.weight"] = {32};
    expected[b + "1.layer_norm.weight"] = {32};
    expected[b + "2.DenseReluDense.wi_0.weight"] = {48, 32};
    expected[b + "2.DenseReluDense.wi_1.weight"] = {48, 32};
    expected[b + "2.DenseReluDense.wo.weight"] = {32, 48};
    expected[b + "2.layer_norm.weight"] = {32};
  }
  EXPECT_EQ(s, expected);
}

TEST(T5Model, ReluAndTiedVariantsNameTheirParametersLikeHuggingFace) {
  ModelConfig c = small_config();
  c.activation = ankh::model::Activation::Relu;
  c.tie_embeddings = true;
  const auto s = shapes(T5Model(c));
  EXPECT_EQ(s.count("lm_head.weight"), 0u);
  EXPECT_EQ(s.at("encoder.block.1.layer.1.DenseReluDense.wi.weight"), (std::vector<int64_t>{48, 32}));
  EXPECT_EQ(s.count("encoder.block.1.layer.1.DenseReluDense.wi_0.weight"), 0u);
  EXPECT_EQ(s.count("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"), 0u);
}

TEST(T5Model, CountParametersMatchesTheInstantiatedModel) {
  for (const char* activation : {"gated-gelu", "gated-silu", "relu"}) {
    for (bool tied : {false, true}) {
      ModelConfig c = small_config();
      c.activation = *activations().parse(activation);
      c.tie_embeddings = tied;
      c.num_heads = 3;  // inner width (24) != d_model (32)
      c.d_kv = 8;
      const T5Model m(c);
      int64_t numel = 0, encoder = 0, decoder = 0;
      for (const auto& p : m->named_parameters()) {
        numel += p.value().numel();
        if (p.key().rfind("encoder.", 0) == 0) encoder += p.value().numel();
        if (p.key().rfind("decoder.", 0) == 0) decoder += p.value().numel();
      }
      const ParamCounts counts = count_parameters(c);
      EXPECT_EQ(counts.total, numel) << activation << " tied=" << tied;
      EXPECT_EQ(counts.encoder, encoder) << activation;
      EXPECT_EQ(counts.decoder, decoder) << activation;
      EXPECT_EQ(counts.embeddings, 144 * 32);
      EXPECT_EQ(counts.lm_head, tied ? 0 : 144 * 32);
    }
  }
}

TEST(T5Model, InitialisationFollowsMeshTensorFlowAndIsDeterministic) {
  ModelConfig c = small_config();
  c.d_model = 64;
  c.d_ff = 256;
  const T5Model a = make_model(c, 11), b = make_model(c, 11), other = make_model(c, 12);
  auto pa = a->named_parameters(), pb = b->named_parameters(), po = other->named_parameters();
  for (const auto& item : pa) {
    const torch::Tensor& x = item.value();
    EXPECT_TRUE(torch::equal(x, pb[item.key()])) << item.key();
    const double std = init_std(c, item.key());
    if (std == 0) {
      EXPECT_TRUE(torch::all(x == 1).item<bool>()) << item.key();
      continue;
    }
    EXPECT_FALSE(torch::equal(x, po[item.key()])) << item.key();
    if (x.numel() >= 4096) {
      EXPECT_NEAR(x.std().item<double>() / std, 1.0, 0.05) << item.key();
    }
  }
  EXPECT_DOUBLE_EQ(init_std(c, "encoder.block.0.layer.0.SelfAttention.q.weight"), 1.0 / std::sqrt(64.0 * 8));
  EXPECT_DOUBLE_EQ(init_std(c, "decoder.block.1.layer.1.EncDecAttention.o.weight"), 1.0 / std::sqrt(32.0));
  EXPECT_DOUBLE_EQ(init_std(c, "decoder.block.1.layer.2.DenseReluDense.wo.weight"), 1.0 / 16);
  EXPECT_DOUBLE_EQ(init_std(c, "lm_head.weight"), 1.0 / 8);
  EXPECT_DOUBLE_EQ(init_std(c, "shared.weight"), 1.0);
  EXPECT_THROW(init_std(c, "encoder.block.0.mystery.weight"), core::Error);
}

TEST(Masks, AdditiveMasksUseTheDtypeMinimum) {
  const torch::Tensor mask = torch::tensor({1, 1, 0}, torch::kLong).view({1, 3});
  const torch::Tensor pad = padding_mask(mask, torch::kFloat);
  EXPECT_EQ(pad.sizes(), (std::vector<int64_t>{1, 1, 1, 3}));
  EXPECT_EQ(pad[0][0][0][0].item<float>(), 0.0f);
  EXPECT_EQ(pad[0][0][0][2].item<float>(), std::numeric_limits<float>::lowest());
  const torch::Tensor causal = causal_padding_mask(mask, torch::kFloat)[0][0];
  const torch::Tensor allowed = causal.eq(0).to(torch::kLong);
  const torch::Tensor expected = torch::tensor({1, 0, 0, 1, 1, 0, 1, 1, 0}, torch::kLong).view({3, 3});
  EXPECT_TRUE(torch::equal(allowed, expected));
  EXPECT_TRUE(std::isfinite(static_cast<double>(causal_padding_mask(mask, torch::kBFloat16).min().item<float>())));
}

// The same sequences with more padding (encoder and decoder) give the same outputs at real positions.
TEST(T5Model, PaddingDoesNotChangeRealPositions) {
  T5Model m = make_model(small_config());
  torch::NoGradGuard no_grad;
  const torch::Tensor enc = residues(2, 9, 1), dec = residues(2, 6, 2);
  // Row 1 is shorter: its last 3 encoder and 2 decoder tokens are padding.
  torch::Tensor enc_mask = torch::ones({2, 9}, torch::kLong), dec_mask = torch::ones({2, 6}, torch::kLong);
  enc_mask[1].slice(0, 6).fill_(0);
  dec_mask[1].slice(0, 4).fill_(0);
  const torch::Tensor hidden = m->encode(enc, enc_mask);
  const torch::Tensor logits = m->decode(dec, dec_mask, hidden, enc_mask);

  // Extra padding: 7 more encoder positions, 5 more decoder positions, holding arbitrary ids.
  const torch::Tensor enc_long = torch::cat({enc, residues(2, 7, 3)}, 1);
  const torch::Tensor dec_long = torch::cat({dec, residues(2, 5, 4)}, 1);
  const torch::Tensor enc_mask_long = torch::cat({enc_mask, torch::zeros({2, 7}, torch::kLong)}, 1);
  const torch::Tensor dec_mask_long = torch::cat({dec_mask, torch::zeros({2, 5}, torch::kLong)}, 1);
  const torch::Tensor hidden_long = m->encode(enc_long, enc_mask_long);
  const torch::Tensor logits_long = m->decode(dec_long, dec_mask_long, hidden_long, enc_mask_long);

  EXPECT_TRUE(torch::allclose(hidden_long[0].slice(0, 0, 9), hidden[0], 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(hidden_long[1].slice(0, 0, 6), hidden[1].slice(0, 0, 6), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(logits_long[0].slice(0, 0, 6), logits[0], 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(logits_long[1].slice(0, 0, 4), logits[1].slice(0, 0, 4), 1e-5, 1e-5));
  // And the check can fail: a padded token that were attended would move the outputs.
  torch::Tensor unmasked = enc_mask_long.clone();
  unmasked[0][12] = 1;
  EXPECT_FALSE(torch::allclose(m->encode(enc_long, unmasked)[0].slice(0, 0, 9), hidden[0], 1e-3, 1e-3));
}

TEST(T5Model, DecoderPositionDependsOnlyOnEarlierTokens) {
  T5Model m = make_model(small_config());
  torch::NoGradGuard no_grad;
  const torch::Tensor enc = residues(1, 10, 5);
  const torch::Tensor hidden = m->encode(enc, torch::Tensor());
  const torch::Tensor dec = residues(1, 8, 6);
  const torch::Tensor logits = m->decode(dec, torch::Tensor(), hidden, torch::Tensor());
  for (int64_t t = 0; t < 7; ++t) {
    torch::Tensor changed = dec.clone();
    // Every token after t becomes another residue.
    changed[0].slice(0, t + 1) = (dec[0].slice(0, t + 1) - data::kFirstResidue + 1) % 20 + data::kFirstResidue;
    const torch::Tensor other = m->decode(changed, torch::Tensor(), hidden, torch::Tensor());
    EXPECT_TRUE(torch::allclose(other[0].slice(0, 0, t + 1), logits[0].slice(0, 0, t + 1), 1e-5, 1e-5)) << t;
    EXPECT_FALSE(torch::allclose(other[0][t + 1], logits[0][t + 1], 1e-4, 1e-4)) << t;
  }
}

TEST(T5Model, EncoderIsBidirectional) {
  T5Model m = make_model(small_config());
  torch::NoGradGuard no_grad;
  const torch::Tensor enc = residues(1, 10, 8);
  torch::Tensor changed = enc.clone();
  changed[0][9] = enc[0][9].item<int64_t>() == 5 ? 6 : 5;
  EXPECT_FALSE(torch::allclose(m->encode(enc, {})[0][0], m->encode(changed, {})[0][0], 1e-4, 1e-4));
}

TEST(T5Model, TiedEmbeddingsRescaleBeforeTheSharedMatrix) {
  ModelConfig c = small_config();
  c.tie_embeddings = true;
  T5Model m = make_model(c);
  torch::NoGradGuard no_grad;
  const torch::Tensor enc = residues(2, 7, 9), dec = residues(2, 5, 10);
  const torch::Tensor hidden = m->encode(enc, {});
  const torch::Tensor logits = m->decode(dec, {}, hidden, {});
  const torch::Tensor last = m->decoder->forward(m->shared(dec), torch::Tensor(), hidden, torch::Tensor());
  const torch::Tensor expected = torch::matmul(last * (1.0 / std::sqrt(32.0)), m->shared->weight.t());
  EXPECT_TRUE(torch::allclose(logits, expected, 1e-5, 1e-5));
}

TEST(T5Model, ForwardOfABatchIsEncodeThenDecode) {
  T5Model m = make_model(small_config());
  torch::NoGradGuard no_grad;
  data::Batch batch;
  batch.input_ids = residues(3, 8, 11);
  batch.attention_mask = torch::ones({3, 8}, torch::kLong);
  batch.attention_mask[2].slice(0, 5).fill_(0);
  batch.decoder_input_ids = residues(3, 4, 12);
  batch.decoder_attention_mask = torch::ones({3, 4}, torch::kLong);
  const torch::Tensor logits = m->forward(batch);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{3, 4, 144}));
  const torch::Tensor expected = m->decode(batch.decoder_input_ids, batch.decoder_attention_mask,
                                           m->encode(batch.input_ids, batch.attention_mask), batch.attention_mask);
  EXPECT_TRUE(torch::equal(logits, expected));
}

TEST(T5Model, ScaledDotProductAttentionMatchesThePlainPath) {
  if (!sdpa_available()) GTEST_SKIP() << "this LibTorch has no scaled_dot_product_attention with a scale";
  ModelConfig plain = small_config(), sdpa = small_config();
  plain.attention = ankh::model::AttentionKernel::Plain;
  sdpa.attention = ankh::model::AttentionKernel::Sdpa;
  T5Model a = make_model(plain), b = make_model(sdpa);
  a->train();
  b->train();
  const torch::Tensor enc = residues(2, 9, 13), dec = residues(2, 5, 14);
  torch::Tensor enc_mask = torch::ones({2, 9}, torch::kLong);
  enc_mask[1].slice(0, 4).fill_(0);
  const torch::Tensor la = a->decode(dec, {}, a->encode(enc, enc_mask), enc_mask);
  const torch::Tensor lb = b->decode(dec, {}, b->encode(enc, enc_mask), enc_mask);
  EXPECT_TRUE(torch::allclose(la, lb, 1e-4, 1e-4));
  la.pow(2).mean().backward();
  lb.pow(2).mean().backward();
  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& item : pa)
    EXPECT_TRUE(torch::allclose(item.value().grad(), pb[item.key()].grad(), 1e-4, 1e-5)) << item.key();
}

TEST(T5Model, SdpaIsRefusedWhereLibTorchLacksIt) {
  if (sdpa_available()) GTEST_SKIP() << "this LibTorch has scaled_dot_product_attention";
  EXPECT_THROW(attention_path(AttentionKernel::Sdpa, false), core::Error);
}

TEST(T5Model, AutoAttentionIsTheFusedPathAndDropoutThePlainOne) {
  EXPECT_EQ(attention_path(AttentionKernel::Auto, false), AttentionPath::Fused);
  EXPECT_EQ(attention_path(AttentionKernel::Fused, false), AttentionPath::Fused);
  EXPECT_EQ(attention_path(AttentionKernel::Plain, false), AttentionPath::Plain);
  // Per-sample dropout of the attention weights lives on the plain path only.
  EXPECT_EQ(attention_path(AttentionKernel::Auto, true), AttentionPath::Plain);
  EXPECT_EQ(attention_path(AttentionKernel::Fused, true), AttentionPath::Plain);
  if (sdpa_available()) {
    EXPECT_EQ(attention_path(AttentionKernel::Sdpa, true), AttentionPath::Plain);
  }
}

}  // namespace
}  // namespace ankh::model
