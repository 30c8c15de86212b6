// The fused attention core (attention_core.h) against autograd over the plain ops, and the whole
// model on the fused path and with fused projections against the plain, unfused one: the same
// function and the same gradients, the position bias's included.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/error.h"
#include "data/batch.h"
#include "data/vocab.h"
#include "trainer/model/attention.h"
#include "trainer/model/attention_core.h"
#include "trainer/model/attention_mask.h"
#include "trainer/model/loss.h"
#include "trainer/model/t5_model.h"
#include "tests/support/test_support.h"

namespace ankh::model {
namespace {

struct Inputs {
  torch::Tensor q, k, v, position, mask;
};

// q [B, heads, Lq, d], k/v [B, heads, Lk, d], position [1, heads, Lq, Lk], and a padding mask
// [B, 1, 1, Lk] hiding the last keys of the second row.
Inputs make_inputs(torch::ScalarType dtype, int64_t lq = 5, int64_t lk = 7) {
  torch::manual_seed(3);
  const auto o = torch::TensorOptions().dtype(dtype);
  Inputs in;
  in.q = torch::randn({2, 3, lq, 4}, o).requires_grad_();
  in.k = torch::randn({2, 3, lk, 4}, o).requires_grad_();
  in.v = torch::randn({2, 3, lk, 4}, o).requires_grad_();
  in.position = torch::randn({1, 3, lq, lk}, o).requires_grad_();
  torch::Tensor keep = torch::ones({2, lk}, torch::kLong);
  keep[1].slice(0, lk - 3).fill_(0);
  in.mask = padding_mask(keep, dtype);
  return in;
}

// softmax(q k^T + position + mask) v by autograd over LibTorch's ops.
torch::Tensor reference(const Inputs& in) {
  return torch::matmul(torch::softmax(torch::matmul(in.q, in.k.transpose(-1, -2)) + in.position + in.mask, -1), in.v);
}

std::vector<torch::Tensor> grads_of(const torch::Tensor& out, const std::vector<torch::Tensor>& wrt,
                                    const torch::Tensor& upstream) {
  return torch::autograd::grad({out}, wrt, {upstream}, /*retain_graph=*/true, /*create_graph=*/false,
                               /*allow_unused=*/true);
}

TEST(AttentionCore, EqualsAutogradOverThePlainOpsInFloat64) {
  const Inputs in = make_inputs(torch::kDouble);
  const torch::Tensor added = (in.position.detach() + in.mask);
  const torch::Tensor fused = fused_attention(in.q, in.k, in.v, added, in.position);
  const torch::Tensor plain = reference(in);
  EXPECT_TRUE(torch::allclose(fused, plain, 1e-12, 1e-12));

  const torch::Tensor upstream = torch::randn_like(plain);
  const std::vector<torch::Tensor> wrt = {in.q, in.k, in.v, in.position};
  const auto a = grads_of(fused, wrt, upstream), b = grads_of(plain, wrt, upstream);
  const char* names[] = {"q", "k", "v", "position"};
  for (size_t i = 0; i < wrt.size(); ++i) {
    ASSERT_TRUE(a[i].defined()) << names[i];
    EXPECT_EQ(a[i].sizes(), wrt[i].sizes()) << names[i];
    EXPECT_EQ(a[i].scalar_type(), torch::kDouble) << names[i];
    EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-12, 1e-12)) << names[i];
  }
  // The masked keys get nothing: their weights are 0, so are the gradients through them.
  EXPECT_EQ(a[1][1].slice(1, 4).abs().max().item<double>(), 0.0);
}

TEST(AttentionCore, WithoutAPositionBiasOnlyQKVGetGradients) {
  // Cross-attention: the bias is a mask only.
  const Inputs in = make_inputs(torch::kDouble, 5, 6);
  const torch::Tensor fused = fused_attention(in.q, in.k, in.v, in.mask, torch::Tensor());
  const torch::Tensor plain = torch::matmul(torch::softmax(torch::matmul(in.q, in.k.transpose(-1, -2)) + in.mask, -1), in.v);
  EXPECT_TRUE(torch::allclose(fused, plain, 1e-12, 1e-12));
  const torch::Tensor upstream = torch::randn_like(plain);
  const auto a = grads_of(fused, {in.q, in.k, in.v}, upstream), b = grads_of(plain, {in.q, in.k, in.v}, upstream);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-12, 1e-12)) << i;
}

TEST(AttentionCore, PositionBiasGradientIsSummedInItsOwnDtype) {
  // A float64 position bias over float32 scores: its gradient is reduced in float64, and a bias
  // without broadcast dimensions gets the scores' gradient as it is.
  const Inputs in = make_inputs(torch::kFloat);
  const torch::Tensor wide = in.position.detach().to(torch::kDouble).requires_grad_();
  const torch::Tensor out = fused_attention(in.q, in.k, in.v, (in.position.detach() + in.mask), wide);
  out.sum().backward();
  EXPECT_EQ(wide.grad().scalar_type(), torch::kDouble);
  EXPECT_EQ(wide.grad().sizes(), wide.sizes());
  const torch::Tensor plain = reference(in);
  plain.sum().backward();
  EXPECT_TRUE(torch::allclose(wide.grad().to(torch::kFloat), in.position.grad(), 1e-5, 1e-6));

  const Inputs full = make_inputs(torch::kDouble);
  const torch::Tensor per_row = (full.position.detach() + full.mask).requires_grad_();  // [2, 3, 5, 7]
  const torch::Tensor fixed = (full.position.detach() + full.mask);
  fused_attention(full.q, full.k, full.v, fixed, per_row).sum().backward();
  ASSERT_TRUE(per_row.grad().defined());
  EXPECT_EQ(per_row.grad().sizes(), per_row.sizes());
}

TEST(AttentionCore, Bf16KeepsFp32SoftmaxStatistics) {
  // In bf16 the scores and weights are stored in bf16 but the softmax accumulates in fp32: the
  // output stays within bf16 rounding of the float64 result (an all-bf16 softmax would not sum
  // 7 weights to 1 this closely, but either way this bounds the error a user sees).
  const Inputs wide = make_inputs(torch::kDouble);
  const torch::Tensor exact = reference(wide);
  auto narrow = [](const torch::Tensor& t) { return t.detach().to(torch::kBFloat16).requires_grad_(); };
  const torch::Tensor q = narrow(wide.q), k = narrow(wide.k), v = narrow(wide.v), position = narrow(wide.position);
  torch::Tensor keep = torch::ones({2, 7}, torch::kLong);
  keep[1].slice(0, 4).fill_(0);  // as make_inputs
  const torch::Tensor added = (wide.position.detach() + padding_mask(keep, torch::kBFloat16)).to(torch::kBFloat16);
  const torch::Tensor out = fused_attention(q, k, v, added, position);
  EXPECT_EQ(out.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::isfinite(out.to(torch::kFloat)).all().item<bool>());
  EXPECT_LT((out.to(torch::kDouble) - exact).abs().max().item<double>(), 0.05);
  out.to(torch::kFloat).sum().backward();
  EXPECT_TRUE(torch::isfinite(position.grad().to(torch::kFloat)).all().item<bool>());
}

TEST(AttentionCore, RefusesMixedDtypesAndATrainableAddedBias) {
  const Inputs in = make_inputs(torch::kFloat);
  EXPECT_THROW(fused_attention(in.q, in.k, in.v, in.mask.to(torch::kDouble), in.position), core::Error);
  EXPECT_THROW(fused_attention(in.q, in.k.detach().to(torch::kDouble), in.v, in.mask, in.position), core::Error);
  EXPECT_THROW(fused_attention(in.q, in.k, in.v, in.position + in.mask, torch::Tensor()), core::Error);
}

// --- the whole model ---------------------------------------------------------------------------

struct Step {
  torch::Tensor logits;
  std::map<std::string, torch::Tensor> grads;
};

Step train_step(const ModelConfig& c, torch::ScalarType dtype) {
  T5Model m(c);
  m->init_weights(11);
  m->to(dtype);
  m->train();
  torch::manual_seed(5);
  data::Batch b;
  b.input_ids = torch::randint(data::kFirstResidue, data::kFirstResidue + 20, {3, 12}, torch::kLong);
  b.attention_mask = torch::ones({3, 12}, torch::kLong);
  b.attention_mask[1].slice(0, 7).fill_(0);
  b.decoder_input_ids = torch::randint(data::kFirstResidue, data::kFirstResidue + 20, {3, 6}, torch::kLong);
  b.decoder_attention_mask = torch::ones({3, 6}, torch::kLong);
  b.decoder_attention_mask[2].slice(0, 4).fill_(0);
  b.labels = b.decoder_input_ids.clone();
  Step s;
  s.logits = m->forward(b);
  loss_terms(s.logits, b.labels).loss_sum.backward();
  for (const auto& p : m->named_parameters()) s.grads[p.key()] = p.value().grad();
  return s;
}

double max_relative(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(1e-30, b.abs().max().item<double>());
}

void expect_same_step(const Step& a, const Step& b, double tolerance, const std::string& what) {
  EXPECT_LT(max_relative(a.logits, b.logits), tolerance) << what << ": logits";
  ASSERT_EQ(a.grads.size(), b.grads.size());
  for (const auto& [name, grad] : b.grads) {
    ASSERT_TRUE(a.grads.at(name).defined()) << what << ": " << name;
    EXPECT_LT(max_relative(a.grads.at(name), grad), tolerance) << what << ": gradient of " << name;
  }
}

ModelConfig config(AttentionKernel kernel, bool fuse) {
  ModelConfig c = testing::tiny_model_config();
  c.attention = kernel;
  c.fuse_projections = fuse;
  return c;
}

TEST(AttentionCore, ModelOnTheFusedPathTrainsLikeThePlainOne) {
  const Step plain = train_step(config(AttentionKernel::Plain, false), torch::kDouble);
  for (const bool fuse : {false, true}) {
    const Step fused = train_step(config(AttentionKernel::Fused, fuse), torch::kDouble);
    expect_same_step(fused, plain, 1e-10, std::string("fused, fuse_projections=") + (fuse ? "true" : "false"));
  }
  // fp32, as CPU training runs it: the same arithmetic, so rounding only.
  expect_same_step(train_step(config(AttentionKernel::Auto, true), torch::kFloat),
                   train_step(config(AttentionKernel::Plain, false), torch::kFloat), 1e-5, "fp32 auto");
}

TEST(AttentionCore, FusedPathUnderActivationCheckpointing) {
  ModelConfig c = config(AttentionKernel::Fused, true);
  const Step plain = train_step(c, torch::kDouble);
  c.activation_checkpointing = true;
  expect_same_step(train_step(c, torch::kDouble), plain, 1e-12, "checkpointed");
}

TEST(AttentionCore, FusedProjectionsOnThePlainPathAndWithoutGating) {
  const Step plain = train_step(config(AttentionKernel::Plain, false), torch::kDouble);
  expect_same_step(train_step(config(AttentionKernel::Plain, true), torch::kDouble), plain, 1e-10, "plain, fused");
  for (const Activation a : {Activation::GatedSilu, Activation::Relu}) {
    ModelConfig off = config(AttentionKernel::Plain, false), on = config(AttentionKernel::Fused, true);
    off.activation = on.activation = a;
    expect_same_step(train_step(on, torch::kDouble), train_step(off, torch::kDouble), 1e-10, name_of(a));
  }
}

}  // namespace
}  // namespace ankh::model
