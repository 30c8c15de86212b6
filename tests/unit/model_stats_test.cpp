// Analytic parameter, FLOP and memory accounting (trainer/model/model_stats.h).
#include <gtest/gtest.h>

#include <set>

#include <cmath>

#include <torch/torch.h>

#include "trainer/optim/optimizer.h"
#include "trainer/weights/model_io.h"
#include "trainer/model/model_stats.h"
#include "trainer/model/t5_model.h"

namespace ankh::model {
namespace {

ModelConfig preset(int64_t d_model, int64_t heads, int64_t d_ff) {
  ModelConfig c;
  c.d_model = d_model;
  c.num_heads = heads;
  c.d_kv = 64;
  c.d_ff = d_ff;
  c.encoder_layers = 48;
  c.decoder_layers = 24;
  return c;
}

TEST(CountParameters, AnkhBaseAndLargeAreThePapers) {
  EXPECT_EQ(count_parameters(preset(768, 12, 3072)).total, 736453632);
  EXPECT_EQ(count_parameters(preset(1536, 16, 3840)).total, 1878705152);
  const ParamCounts base = count_parameters(preset(768, 12, 3072));
  EXPECT_EQ(base.embeddings, 144 * 768);
  EXPECT_EQ(base.lm_head, 144 * 768);
  EXPECT_EQ(base.encoder + base.decoder + base.embeddings + base.lm_head, base.total);
}

TEST(DecoderLength, FollowsTheObjective) {
  data::ObjectiveConfig o;
  o.single.kind = data::ObjectiveKind::Ankh;
  o.single.mask_prob = {0.2};
  EXPECT_EQ(typical_decoder_length(o, 512), 205);  // 2 * round(0.2 * 511) + 1
  o.single.kind = data::ObjectiveKind::T5Span;
  o.single.mean_span_length = 3;
  EXPECT_EQ(typical_decoder_length(o, 512), 102 + 34 + 1);
  o.single.kind = data::ObjectiveKind::FullReconstruction;
  EXPECT_EQ(typical_decoder_length(o, 512), 512);
  o.single.kind = data::ObjectiveKind::Completion;
  o.single.prefix_fraction = {0.3, 0.7};
  EXPECT_EQ(typical_decoder_length(o, 512), 511 - 256 + 1);  // the mean fraction 0.5

  // A mixture: the mean by weight; multi-rate masking: the mean over the rates; a task token
  // takes an encoder token (510 residues).
  data::TaskConfig ankh, completion;
  ankh.weight = 3;
  ankh.mask_prob = {0.1, 0.3};  // 2 * 51 + 1 = 103 and 2 * 153 + 1 = 307: 205
  ankh.prefix_token = "[NLU]";
  completion.kind = data::ObjectiveKind::Completion;
  completion.prefix_length = 100;  // 510 - 100 + 1 = 411
  o.mixture = {ankh, completion};
  EXPECT_EQ(typical_decoder_length(o, 512), std::llround((3 * 205.0 + 411) / 4));
}

TEST(Flops, HandComputedSmallModel) {
  ModelConfig c;
  c.d_model = 4;
  c.num_heads = 2;
  c.d_kv = 2;
  c.d_ff = 8;
  c.encoder_layers = 1;
  c.decoder_layers = 1;
  // Le = 3, Ld = 2, inner 4. Encoder: 3 tokens x (qkvo 2*4*4*4 = 128, gated FF 2*3*4*8 = 192,
  // scores + mixing 4*3*4 = 48) = 1104. Decoder: 2 x (128 + 192 + 4*2*4) = 704, cross q,o + scores
  // 2 x (2*2*4*4 + 4*3*4) = 224, cross k,v over 3 encoder tokens 3 x 64 = 192. lm_head 2*2*4*144.
  const ForwardFlops f = forward_flops(c, 3, 2);
  EXPECT_DOUBLE_EQ(f.encoder, 1104);
  EXPECT_DOUBLE_EQ(f.decoder, 704 + 224 + 192);
  EXPECT_DOUBLE_EQ(f.lm_head, 2304);
  EXPECT_DOUBLE_EQ(train_flops_per_token(c, 3, 2), 3 * (1104 + 1120 + 2304) / 3.0);
}

TEST(Flops, SixPerMatmulParameterPerTokenPlusAttention) {
  // With one encoder and one decoder token, every matrix is used once per token: training costs
  // 6 FLOPs per matrix parameter, plus the attention products (4a per attention layer, x3).
  ModelConfig c = preset(768, 12, 3072);
  const ParamCounts p = count_parameters(c);
  const double norms_and_tables = (c.encoder_layers * 2 + c.decoder_layers * 3 + 2) * 768.0 + 2 * 64 * 12;
  const double matmul_params = static_cast<double>(p.total - p.embeddings) - norms_and_tables;
  const double attention = 3 * 4 * 768.0 * (c.encoder_layers + 2 * c.decoder_layers);
  EXPECT_NEAR(train_flops_per_token(c, 1, 1) / (6 * matmul_params + attention), 1.0, 1e-12);
}

TEST(Memory, WeightsGradientsAndOptimizerState) {
  ModelConfig c;
  c.d_model = 32;
  c.num_heads = 2;
  c.d_kv = 8;
  c.d_ff = 40;
  c.encoder_layers = 2;
  c.decoder_layers = 1;
  c.relative_buckets = 8;
  const double params = static_cast<double>(count_parameters(c).total);
  // The optimizer's figure, from the shapes `ankh info` uses (the T5 layout, no model built): they
  // are the real model's shapes.
  const auto shapes = weights::parameter_shapes(c);
  std::multiset<std::vector<int64_t>> real, layout(shapes.begin(), shapes.end());
  for (const auto& p : T5Model(c)->parameters()) real.insert(p.sizes().vec());
  EXPECT_EQ(real, layout);
  const auto state = [&](optim::OptimizerKind kind, double beta1 = 0) {
    optim::OptimConfig o;
    o.name = kind;
    o.adafactor_beta1 = beta1;
    return static_cast<double>(optim::estimate_state_bytes(o, shapes));
  };
  const MemoryEstimate adamw = estimate_memory(c, 64, 27, state(optim::OptimizerKind::AdamW));
  EXPECT_DOUBLE_EQ(adamw.weights, 4 * params);
  EXPECT_DOUBLE_EQ(adamw.gradients, 4 * params);
  EXPECT_DOUBLE_EQ(adamw.optimizer_state, 8 * params + 8);  // + the step counter

  // Adafactor: rows + columns per matrix, the whole vector otherwise, from the real shapes.
  double factored = 0;
  for (const auto& p : T5Model(c)->parameters())
    factored += p.dim() == 2 ? static_cast<double>(p.size(0) + p.size(1)) : static_cast<double>(p.numel());
  EXPECT_DOUBLE_EQ(estimate_memory(c, 64, 27, state(optim::OptimizerKind::Adafactor)).optimizer_state, 4 * factored + 8);
  EXPECT_DOUBLE_EQ(estimate_memory(c, 64, 27, state(optim::OptimizerKind::Adafactor, 0.9)).optimizer_state,
                   4 * factored + 4 * params + 8);
}

TEST(Memory, ActivationsShrinkWithBf16AndCheckpointing) {
  ModelConfig c = preset(768, 12, 3072);
  c.attention = AttentionKernel::Plain;
  c.precision = ankh::model::Precision::Fp32;
  const double fp32 = estimate_memory(c, 512, 205, 0).activations_per_token;
  c.precision = ankh::model::Precision::Bf16;
  const double bf16 = estimate_memory(c, 512, 205, 0).activations_per_token;
  c.activation_checkpointing = true;
  const double checkpointed = estimate_memory(c, 512, 205, 0).activations_per_token;
  EXPECT_LT(bf16, fp32);
  EXPECT_LT(checkpointed * 5, bf16);
  // Without checkpointing, the 48 encoder layers alone keep at least their attention weights
  // (12 heads x 512 keys, fp32 + bf16 copy) and the bf16 gated feed-forward (4 x 3072 x 2 bytes).
  EXPECT_GT(bf16, 48 * (12 * 512 * 6 + 4 * 3072 * 2));
}

TEST(Memory, FusedAttentionKeepsOnlyTheBf16Weights) {
  ModelConfig c = preset(768, 12, 3072);
  c.attention = AttentionKernel::Plain;
  const double plain = estimate_memory(c, 512, 205, 0).activations_per_token;
  c.attention = AttentionKernel::Auto;  // fused
  const double fused = estimate_memory(c, 512, 205, 0).activations_per_token;
  // Per encoder token and layer, 12 heads x 512 keys x (4 + 2 - 2) bytes fewer; the decoder and
  // the shared bias save more.
  EXPECT_GT(plain - fused, 48 * 12 * 512 * 4);
  c.dropout = 0.1;  // dropout takes the plain path, and the estimate follows
  EXPECT_DOUBLE_EQ(estimate_memory(c, 512, 205, 0).activations_per_token, plain);
  // The GPU test's configuration (tests/gpu/model_cuda_test.cpp) saves more than 10 %.
  ModelConfig g = preset(512, 8, 2048);
  g.encoder_layers = 8;
  g.decoder_layers = 4;
  g.attention = AttentionKernel::Plain;
  const double g_plain = estimate_memory(g, 256, 103, 0).activations_per_token;
  g.attention = AttentionKernel::Fused;
  EXPECT_LT(estimate_memory(g, 256, 103, 0).activations_per_token, 0.9 * g_plain);
}

}  // namespace
}  // namespace ankh::model
