// The model on a GPU: bf16 autocast against fp32, the fused attention core and
// scaled_dot_product_attention against the plain path, the gated-activation kernel against
// LibTorch's ops, activation checkpointing under autocast,
// device-independent initialisation, and the activation memory estimate against the caching
// allocator's count (and the fused path's saving). Skips without CUDA.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

#include <torch/cuda.h>
#include <torch/torch.h>

#include "ankh/build_config.h"
#include "data/batch.h"
#include "data/vocab.h"
#include "trainer/model/attention.h"
#include "trainer/model/gated_activation.h"
#include "trainer/model/layers.h"
#include "trainer/model/loss.h"
#include "trainer/model/model_stats.h"
#include "trainer/model/precision.h"
#include "trainer/model/t5_model.h"

#if ANKH_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace ankh::model {
namespace {

#define REQUIRE_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device"

const torch::Device kCuda(torch::kCUDA, 0);

ModelConfig config(const std::string& attention = "plain") {
  ModelConfig c;
  c.d_model = 256;
  c.num_heads = 4;
  c.d_kv = 64;
  c.d_ff = 512;
  c.encoder_layers = 4;
  c.decoder_layers = 2;
  c.precision = ankh::model::Precision::Bf16;
  c.attention = *attention_kernels().parse(attention);
  return c;
}

data::Batch batch(int64_t rows, int64_t enc_len, int64_t dec_len) {
  torch::manual_seed(3);
  data::Batch b;
  const auto ids = torch::TensorOptions().dtype(torch::kLong);
  b.input_ids = torch::randint(data::kFirstResidue, data::kFirstResidue + 20, {rows, enc_len}, ids);
  b.attention_mask = torch::ones({rows, enc_len}, ids);
  b.attention_mask[0].slice(0, enc_len / 2).fill_(0);
  b.labels = torch::randint(data::kFirstResidue, data::kVocabSize, {rows, dec_len}, ids);
  b.decoder_input_ids = torch::cat({torch::zeros({rows, 1}, ids), b.labels.slice(1, 0, dec_len - 1)}, 1);
  b.decoder_attention_mask = torch::ones({rows, dec_len}, ids);
  b.input_ids = b.input_ids.to(kCuda);
  b.attention_mask = b.attention_mask.to(kCuda);
  b.labels = b.labels.to(kCuda);
  b.decoder_input_ids = b.decoder_input_ids.to(kCuda);
  b.decoder_attention_mask = b.decoder_attention_mask.to(kCuda);
  return b;
}

struct StepResult {
  double loss = 0;
  std::map<std::string, torch::Tensor> grads;
};

StepResult train_step(const ModelConfig& c, bool autocast, const data::Batch& b) {
  T5Model m(c);
  m->init_weights(1);
  m->to(kCuda);
  m->train();
  torch::Tensor loss;
  {
    AutocastGuard guard({autocast, torch::kBFloat16});
    loss = loss_terms(m->forward(b), b.labels).loss_sum / static_cast<double>(b.labels.numel());
  }
  loss.backward();
  StepResult r;
  r.loss = loss.item<double>();
  for (auto& p : m->named_parameters()) {
    EXPECT_EQ(p.value().scalar_type(), torch::kFloat) << "master weights stay fp32: " << p.key();
    EXPECT_EQ(p.value().grad().scalar_type(), torch::kFloat) << p.key();
    r.grads[p.key()] = p.value().grad().to(torch::kCPU);
  }
  return r;
}

double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).norm().item<double>() / std::max(1e-12, b.norm().item<double>());
}

TEST(ModelCuda, Bf16AutocastTracksFp32) {
  REQUIRE_CUDA();
  const data::Batch b = batch(4, 128, 40);
  for (const char* attention : {"plain", "fused"}) {
    const StepResult fp32 = train_step(config(attention), false, b), bf16 = train_step(config(attention), true, b);
    EXPECT_NEAR(bf16.loss, fp32.loss, 0.02 * fp32.loss) << attention;
    for (const auto& [name, grad] : fp32.grads)
      EXPECT_LT(relative_difference(bf16.grads.at(name), grad), 0.1) << name << " " << attention;
  }
}

// fused in fp32 is the plain path's arithmetic; under bf16 it keeps scores + bias and the
// weights in bf16 (fp32 softmax statistics), as Hugging Face's bf16 T5 does.
TEST(ModelCuda, FusedAndSdpaMatchThePlainPath) {
  REQUIRE_CUDA();
  const data::Batch b = batch(4, 128, 40);
  for (const char* kernel : {"fused", "sdpa"}) {
    if (std::string(kernel) == "sdpa" && !sdpa_available()) continue;
    for (bool autocast : {false, true}) {
      const StepResult plain = train_step(config("plain"), autocast, b), other = train_step(config(kernel), autocast, b);
      EXPECT_NEAR(other.loss, plain.loss, (autocast ? 1e-2 : 1e-5) * plain.loss) << kernel;
      for (const auto& [name, grad] : plain.grads)
        EXPECT_LT(relative_difference(other.grads.at(name), grad), autocast ? 0.05 : 1e-4)
            << name << " " << kernel << " autocast=" << autocast;
    }
  }
}

// The whole model with ankh's gated-activation kernel against LibTorch's gelu and mul: in fp32 the
// same function up to the gate's fp32 rounding; under bf16 one rounding fewer.
TEST(ModelCuda, FusedActivationMatchesLibTorchsOps) {
  REQUIRE_CUDA();
  if (!fused_gated_activation_built()) GTEST_SKIP() << "built without the kernel";
  const data::Batch b = batch(4, 128, 40);
  ModelConfig with = config("fused"), without = config("fused");
  without.fused_activation = false;
  for (bool autocast : {false, true}) {
    const StepResult kernel = train_step(with, autocast, b), libtorch = train_step(without, autocast, b);
    EXPECT_NEAR(kernel.loss, libtorch.loss, (autocast ? 1e-2 : 1e-6) * libtorch.loss);
    for (const auto& [name, grad] : libtorch.grads)
      EXPECT_LT(relative_difference(kernel.grads.at(name), grad), autocast ? 0.05 : 1e-5)
          << name << " autocast=" << autocast;
  }
}

// LibTorch's fused RMSNorm (>= 2.8) against the composed ops, fp32 as training feeds it.
TEST(ModelCuda, FusedRmsNormMatchesTheComposedOps) {
  REQUIRE_CUDA();
  if (!fused_rms_norm_available()) GTEST_SKIP() << "LibTorch without the fused RMSNorm";
  torch::manual_seed(4);
  RMSNorm fused(256, 1e-6, true), composed(256, 1e-6, false);
  fused->to(kCuda);
  composed->to(kCuda);
  const torch::Tensor gain = torch::rand({256}, torch::TensorOptions().device(kCuda)) + 0.5;
  {
    torch::NoGradGuard no_grad;
    fused->weight.copy_(gain);
    composed->weight.copy_(gain);
  }
  const torch::Tensor x = (torch::randn({4, 37, 256}, torch::TensorOptions().device(kCuda)) * 3).requires_grad_();
  const torch::Tensor upstream = torch::randn({4, 37, 256}, torch::TensorOptions().device(kCuda));
  for (bool autocast : {false, true}) {  // the residual stream is fp32 under autocast too
    torch::Tensor a, b;
    {
      AutocastGuard guard({autocast, torch::kBFloat16});
      a = fused(x);
      b = composed(x);
    }
    EXPECT_EQ(a.scalar_type(), torch::kFloat);
    EXPECT_LT(relative_difference(a.detach().cpu(), b.detach().cpu()), 1e-6) << "autocast=" << autocast;
    const auto ga = torch::autograd::grad({a}, {x, fused->weight}, {upstream});
    const auto gb = torch::autograd::grad({b}, {x, composed->weight}, {upstream});
    EXPECT_LT(relative_difference(ga[0].cpu(), gb[0].cpu()), 1e-5) << "input gradient, autocast=" << autocast;
    EXPECT_LT(relative_difference(ga[1].cpu(), gb[1].cpu()), 1e-5) << "weight gradient, autocast=" << autocast;
  }
}

// In fp32 the recomputation reproduces the ordinary backward; under bf16 autocast it differs at
// bf16 rounding level, because the recomputed matmuls run on the autograd thread's cuBLAS handle
// (another algorithm choice) while the loss itself is identical.
TEST(ModelCuda, CheckpointingMatchesTheOrdinaryBackward) {
  REQUIRE_CUDA();
  const data::Batch b = batch(4, 128, 40);
  for (const char* attention : {"plain", "fused", "sdpa"}) {
    if (std::string(attention) == "sdpa" && !sdpa_available()) continue;
    for (bool autocast : {false, true}) {
      ModelConfig c = config(attention);
      const StepResult plain = train_step(c, autocast, b);
      c.activation_checkpointing = true;
      const StepResult checkpointed = train_step(c, autocast, b);
      EXPECT_NEAR(checkpointed.loss, plain.loss, 1e-6 * plain.loss);
      for (const auto& [name, grad] : plain.grads)
        EXPECT_LT(relative_difference(checkpointed.grads.at(name), grad), autocast ? 1e-2 : 1e-5)
            << name << " " << attention << " autocast=" << autocast;
    }
  }
}

TEST(ModelCuda, InitialisationDoesNotDependOnTheDevice) {
  REQUIRE_CUDA();
  T5Model cpu(config()), gpu(config());
  gpu->to(kCuda);
  cpu->init_weights(5);
  gpu->init_weights(5);
  auto g = gpu->named_parameters();
  for (const auto& p : cpu->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), g[p.key()].to(torch::kCPU))) << p.key();
}

#if ANKH_TORCH_CUDA
double allocated(bool peak) {
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(0);
  return static_cast<double>(peak ? stats.allocated_bytes[0].peak : stats.allocated_bytes[0].current);
}

// Activation memory, measured: the allocator's peak over forward + backward, less what was there
// before (weights, batch) and less the gradients backward creates.
double measured_activations(const ModelConfig& c, int64_t rows, int64_t enc_len, int64_t dec_len) {
  T5Model m(c);
  m->init_weights(1);
  m->to(kCuda);
  m->train();
  data::Batch b = batch(rows, enc_len, dec_len);
  b.attention_mask.fill_(1);
  torch::cuda::synchronize();
  const double before = allocated(false);
  c10::cuda::CUDACachingAllocator::resetPeakStats(0);
  torch::Tensor loss;
  {
    AutocastGuard guard(autocast_for(c, kCuda));
    loss = loss_terms(m->forward(b), b.labels).loss_sum;
  }
  loss.backward();
  torch::cuda::synchronize();
  return allocated(true) - before - 4.0 * static_cast<double>(count_parameters(c).total);
}

TEST(ModelCuda, ActivationMemoryEstimateIsCloseToTheAllocator) {
  REQUIRE_CUDA();
  std::map<std::string, double> without_checkpointing;
  for (const char* attention : {"plain", "fused"}) {
    for (bool checkpointing : {false, true}) {
      ModelConfig c = config(attention);
      c.d_model = 512;
      c.num_heads = 8;
      c.d_ff = 2048;
      c.encoder_layers = 8;
      c.decoder_layers = 4;
      c.activation_checkpointing = checkpointing;
      const int64_t rows = 8, le = 256, ld = 103;
      const double measured = measured_activations(c, rows, le, ld);
      const double estimated = estimate_memory(c, le, ld, 0).activations_per_token * static_cast<double>(rows * le);
      std::printf("activations (%s, checkpointing %d): measured %.1f MiB, estimated %.1f MiB, ratio %.2f\n", attention,
                  checkpointing, measured / 1048576, estimated / 1048576, estimated / measured);
      EXPECT_GT(estimated / measured, 0.6) << attention << " checkpointing=" << checkpointing;
      EXPECT_LT(estimated / measured, 1.6) << attention << " checkpointing=" << checkpointing;
      if (!checkpointing) without_checkpointing[attention] = measured;
    }
  }
  // The fused path keeps no fp32 score matrix: at 256 keys it is most of the attention's memory.
  EXPECT_LT(without_checkpointing.at("fused"), 0.9 * without_checkpointing.at("plain"));
}
#endif

}  // namespace
}  // namespace ankh::model
