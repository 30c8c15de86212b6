// Memory bounds of running the encoder on user proteins: the inference estimate (monotone, equal
// to a hand computation), the detected headroom (an RLIMIT_AS set here is seen), memory sizes on
// the command line, batches over the bound split with the same embeddings, and a protein that
// does not fit alone refused before any batch, naming it and a length that does fit.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <fstream>
#include <map>

#include <torch/torch.h>

#include "core/error.h"
#include "data/vocab.h"
#include "tests/support/test_support.h"
#include "tests/unit/data_test_util.h"
#include "trainer/model/inference_memory.h"
#include "trainer/model/model_stats.h"
#include "trainer/weights/embedder.h"

namespace ankh::weights {
namespace {

using model::estimate_encoder_inference;
using model::ModelConfig;

// The demo model as `ankh embed` builds it (configs/demo.yaml; load_encoder keeps one decoder block).
ModelConfig demo_encoder() {
  ModelConfig c;
  c.d_model = 256;
  c.num_heads = 4;
  c.d_kv = 64;
  c.d_ff = 512;
  c.encoder_layers = 4;
  c.decoder_layers = 1;
  return c;
}

TEST(InferenceMemory, MatchesAHandComputation) {
  const ModelConfig c = demo_encoder();
  // Parameters: encoder 4 x (4*256*256 + 3*256*512 + 2*256) + 64*4 + 256 = 2,624,000; decoder
  // 2*65536*4 + 3*256*512 + 3*256 + 64*4 + 256 = 918,784; embeddings and lm_head 2 x 144*256.
  const double weights = 4.0 * (2624000 + 918784 + 2 * 36864);
  // One protein of 8000 residues (T = 8001): the position buckets, 61 bytes per pair, dominate
  // the attention (3 x 4 heads x 4 bytes = 48 per pair); ids, masks and embeddings 20 + 4*256 per token.
  const double t = 8001;
  const auto one = estimate_encoder_inference(c, 1, 8001, torch::kFloat32);
  EXPECT_DOUBLE_EQ(one.weights, weights);
  EXPECT_NEAR(one.activations, 1.10 * (61 * t * t + t * (20 + 4 * 256)), 1.0);
  // Four proteins at T = 4001: bias + scores + softmax, 3 x 4 bytes x 4 heads x 4 proteins per
  // pair, plus the block's input, norm, q, k, v and two copies, 4 x (2*256 + 5*256) per token.
  const double u = 4001, tokens = 4 * u;
  const auto four = estimate_encoder_inference(c, 4, 4001, torch::kFloat32);
  EXPECT_NEAR(four.activations, 1.10 * (192 * u * u + tokens * 4 * (2 * 256 + 5 * 256) + tokens * (20 + 4 * 256)), 1.0);
  EXPECT_DOUBLE_EQ(four.total(), four.weights + four.activations);
  // bf16 halves the weights; softmax stays fp32, with a bf16 copy of the probabilities.
  const auto half = estimate_encoder_inference(c, 4, 4001, torch::kBFloat16);
  EXPECT_DOUBLE_EQ(half.weights, weights / 2);
  EXPECT_NEAR(half.activations, 1.10 * (224 * u * u + tokens * 2 * (2 * 256 + 5 * 256) + tokens * (20 + 2 * 256)), 1.0);
}

TEST(InferenceMemory, GrowsWithLengthAndBatch) {
  ModelConfig base = demo_encoder();
  base.num_heads = 12;
  base.d_model = 768;
  base.d_ff = 3072;
  for (const ModelConfig& c : {demo_encoder(), base}) {
    for (const auto dtype : {torch::kFloat32, torch::kBFloat16}) {
      double previous_t = 0;
      for (int64_t t = 1; t <= 40000; t = t * 3 / 2 + 1) {
        double previous_b = 0;
        for (const int64_t b : {1, 2, 3, 8, 64}) {
          const double m = estimate_encoder_inference(c, b, t, dtype).total();
          EXPECT_GT(m, previous_b) << "b " << b << " t " << t;
          previous_b = m;
        }
        const double one = estimate_encoder_inference(c, 1, t, dtype).total();
        EXPECT_GT(one, previous_t) << "t " << t;
        previous_t = one;
      }
    }
  }
  // A titin-sized protein needs tens of GB: the case this check exists for.
  EXPECT_GT(estimate_encoder_inference(demo_encoder(), 1, 30001, torch::kFloat32).total(), 20e9);
}

TEST(InferenceMemory, MemorySizesOnTheCommandLine) {
  EXPECT_DOUBLE_EQ(model::parse_memory_size("8G", "--memory-limit"), 8.0 * (1 << 30));
  EXPECT_DOUBLE_EQ(model::parse_memory_size("512MiB", "--memory-limit"), 512.0 * (1 << 20));
  EXPECT_DOUBLE_EQ(model::parse_memory_size("1.5gb", "--memory-limit"), 1.5 * (1 << 30));
  EXPECT_DOUBLE_EQ(model::parse_memory_size("2000", "--memory-limit"), 2000);
  EXPECT_DOUBLE_EQ(model::parse_memory_size("3 KB", "--memory-limit"), 3072);
  for (const char* bad : {"", "lots", "8X", "-1G", "0", "8GG"}) {
    const std::string e = testing::error_of<core::UsageError>([&] { model::parse_memory_size(bad, "--memory-limit"); });
    EXPECT_NE(e.find("--memory-limit"), std::string::npos) << bad << ": " << e;
  }
}

double status_bytes(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) * 1024;  // "VmSize:  123 kB"
  return 0;
}

TEST(InferenceMemory, HeadroomSeesAnAddressSpaceLimit) {
  const model::MemoryHeadroom free = model::memory_headroom(torch::kCPU);
  EXPECT_GT(free.bytes, 0);
  EXPECT_FALSE(free.limited_by.empty());
  struct rlimit saved {};
  ASSERT_EQ(::getrlimit(RLIMIT_AS, &saved), 0);
  const double spare = 512.0 * (1 << 20);
  const double vm = status_bytes("VmSize");
  ASSERT_GT(vm, 0);
  if (saved.rlim_max != RLIM_INFINITY && static_cast<double>(saved.rlim_max) < vm + 2 * spare)
    GTEST_SKIP() << "the hard RLIMIT_AS leaves no room for this test";
  struct rlimit limited = saved;
  limited.rlim_cur = static_cast<rlim_t>(vm + spare);
  ASSERT_EQ(::setrlimit(RLIMIT_AS, &limited), 0);
  const model::MemoryHeadroom bounded = model::memory_headroom(torch::kCPU);
  ASSERT_EQ(::setrlimit(RLIMIT_AS, &saved), 0);
  EXPECT_EQ(bounded.limited_by, "RLIMIT_AS (ulimit -v)");
  EXPECT_LE(bounded.bytes, spare);
  EXPECT_GT(bounded.bytes, spare - 64.0 * (1 << 20));  // only what the test itself mapped meanwhile
}

TEST(EmbedMemory, PlanSplitsABatchOverTheBound) {
  const std::vector<int64_t> lengths = {30, 30, 30, 30, 30, 10, 10};
  // Memory allows two proteins of 31 tokens, or four of 11: the token budget alone would allow all.
  const BatchFits fits = [](int64_t b, int64_t t) { return b * t * t <= 2 * 31 * 31; };
  const auto batches = plan_batches(lengths, 1000, fits);
  ASSERT_EQ(plan_batches(lengths, 1000).size(), 1u);
  // Protein 5 joins 4 (padded to its 31 tokens); 6 would make three of 31.
  const std::vector<std::vector<int64_t>> expected = {{0, 1}, {2, 3}, {4, 5}, {6}};
  EXPECT_EQ(batches, expected);
  for (const auto& b : batches)
    EXPECT_TRUE(fits(static_cast<int64_t>(b.size()), lengths[static_cast<std::size_t>(b.front())] + 1));
  EXPECT_EQ(longest_fitting(fits, 100), 42);  // 42 residues + </s>: 43^2 = 1849 <= 1922 < 44^2
  EXPECT_EQ(longest_fitting(fits, 20), 20);   // never above the protein's own length
  EXPECT_EQ(longest_fitting([](int64_t, int64_t) { return false; }, 100), 0);
}

struct Encoded {
  model::T5Model model{nullptr};
  std::vector<std::vector<uint8_t>> sequences;
};

Encoded random_encoded(int64_t proteins, int64_t length) {
  Encoded s;
  model::ModelConfig c = testing::tiny_model_config();
  c.decoder_layers = 1;
  s.model = model::T5Model(c);
  s.model->init_weights(5);
  s.model->eval();
  for (const auto& p : testing::random_proteins(proteins, 9, length, length)) {
    std::vector<uint8_t> ids;
    for (const char ch : p.sequence) ids.push_back(static_cast<uint8_t>(data::residue_id(static_cast<unsigned char>(ch))));
    s.sequences.push_back(ids);
  }
  return s;
}

std::map<int64_t, torch::Tensor> embed(Encoded& s, const EmbedBatchOptions& o, int64_t* batches = nullptr) {
  std::map<int64_t, torch::Tensor> out;
  const int64_t n = embed_sequences(s.model, s.sequences, o, [&](int64_t i, const torch::Tensor& mean, const torch::Tensor&) {
    out[i] = mean.clone();
  });
  if (batches) *batches = n;
  return out;
}

TEST(EmbedMemory, ABatchOverTheLimitIsSplitWithTheSameEmbeddings) {
  Encoded s = random_encoded(6, 80);
  const auto& c = s.model->config();
  EmbedBatchOptions o;
  o.batch_tokens = 1 << 20;
  int64_t batches = 0;
  const auto unbounded = embed(s, o, &batches);
  ASSERT_EQ(batches, 1);
  // Room for two proteins of 81 tokens, not three.
  o.memory_limit = 0.5 * (estimate_encoder_inference(c, 2, 81, torch::kFloat32).total() +
                          estimate_encoder_inference(c, 3, 81, torch::kFloat32).total());
  const auto split = embed(s, o, &batches);
  EXPECT_EQ(batches, 3);
  ASSERT_EQ(split.size(), unbounded.size());
  for (const auto& [i, mean] : unbounded) {
    const double diff = (mean - split.at(i)).abs().max().item<double>();
    EXPECT_LT(diff, 1e-5) << i;
  }
}

TEST(EmbedMemory, AProteinThatDoesNotFitAloneIsRefusedBeforeAnyBatch) {
  Encoded s = random_encoded(3, 40);
  s.sequences[1].resize(400, s.sequences[1][0]);  // the long one
  const auto& c = s.model->config();
  EmbedBatchOptions o;
  o.memory_limit = estimate_encoder_inference(c, 1, 200, torch::kFloat32).total();
  o.describe = [](int64_t i) { return "proteins.fasta:" + std::to_string(10 * i + 1) + " (protein 'P" + std::to_string(i) + "')"; };
  o.length_hint = [](int64_t n) { return "--max-length " + std::to_string(n) + " fits"; };
  int calls = 0;
  const std::string e = testing::error_of<core::Error>([&] {
    embed_sequences(s.model, s.sequences, o, [&](int64_t, const torch::Tensor&, const torch::Tensor&) { ++calls; });
  });
  EXPECT_EQ(calls, 0) << "refused before any batch";
  EXPECT_NE(e.find("proteins.fasta:11 (protein 'P1')"), std::string::npos) << e;
  EXPECT_NE(e.find("protein of 400 residues needs an estimated"), std::string::npos) << e;
  EXPECT_NE(e.find("available (--memory-limit"), std::string::npos) << e;
  EXPECT_NE(e.find("; 1 of 3 proteins are longer."), std::string::npos) << e;
  const auto at = e.find("--max-length ");
  ASSERT_NE(at, std::string::npos) << e;
  const int64_t hinted = std::stoll(e.substr(at + 13));
  // The hint fits with a tenth to spare, and is not far below what fits at all.
  EXPECT_LE(estimate_encoder_inference(c, 1, hinted + 1, torch::kFloat32).total(), 0.9 * o.memory_limit);
  EXPECT_GT(estimate_encoder_inference(c, 1, hinted + 2, torch::kFloat32).total(), 0.9 * o.memory_limit);
  EXPECT_GT(hinted, 100);
  EXPECT_LT(hinted, 199);
  // With the long protein cut to the hint, everything runs.
  s.sequences[1].resize(static_cast<std::size_t>(hinted));
  EXPECT_EQ(embed(s, o).size(), 3u);
}

}  // namespace
}  // namespace ankh::weights
