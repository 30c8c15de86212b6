// ankh's model against Hugging Face's T5ForConditionalGeneration on the same weights and inputs:
// logits within 1e-4 in fp32 (docs/architecture.md, "Model semantics"), encoder states, and the gradients of the summed
// cross-entropy. The reference comes from tests/gpu/model_hf_reference.py (needs transformers):
//   python3 tests/gpu/model_hf_reference.py /tmp/hf && ANKH_HF_REFERENCE=/tmp/hf gpu_model_hf_parity_test
// Skips when ANKH_HF_REFERENCE is not set. Runs on the CPU, and on CUDA (plain and sdpa) when present.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <torch/cuda.h>
#include <torch/torch.h>

#include "core/strings.h"
#include "trainer/model/attention.h"
#include "trainer/model/loss.h"
#include "trainer/model/t5_model.h"

namespace ankh::model {
namespace {

namespace fs = std::filesystem;

torch::Tensor read_tensor(const fs::path& file, const std::vector<int64_t>& shape, torch::ScalarType dtype) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(dtype));
  if (static_cast<size_t>(t.nbytes()) != bytes.size())
    throw std::runtime_error(file.string() + ": " + std::to_string(bytes.size()) + " bytes, expected " +
                             std::to_string(t.nbytes()));
  std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
  return t;
}

struct Case {
  ModelConfig config;
  std::map<std::string, std::vector<int64_t>> shapes;
  fs::path dir;
  int64_t batch = 0, enc_len = 0, dec_len = 0;
};

Case load_case(const fs::path& dir) {
  Case c;
  c.dir = dir;
  c.config.precision = ankh::model::Precision::Fp32;
  std::ifstream cfg(dir / "config.txt");
  for (std::string line; std::getline(cfg, line);) {
    const auto eq = line.find('=');
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "activation") c.config.activation = *activations().parse(value);
    else if (key == "tie_embeddings") c.config.tie_embeddings = value == "true";
    else {
      const int64_t v = *core::parse_int(value);
      if (key == "d_model") c.config.d_model = v;
      else if (key == "num_heads") c.config.num_heads = v;
      else if (key == "d_kv") c.config.d_kv = v;
      else if (key == "d_ff") c.config.d_ff = v;
      else if (key == "encoder_layers") c.config.encoder_layers = v;
      else if (key == "decoder_layers") c.config.decoder_layers = v;
      else if (key == "relative_buckets") c.config.relative_buckets = v;
      else if (key == "relative_max_distance") c.config.relative_max_distance = v;
    }
  }
  std::ifstream params(dir / "params.tsv");
  for (std::string line; std::getline(params, line);) {
    const auto tab = line.find('\t');
    std::vector<int64_t> shape;
    for (const auto& s : core::split(line.substr(tab + 1), ',')) shape.push_back(*core::parse_int(s));
    c.shapes[line.substr(0, tab)] = shape;
  }
  std::ifstream sizes(dir / "shapes.txt");
  sizes >> c.batch >> c.enc_len >> c.dec_len;
  return c;
}

void compare(const std::string& what, const torch::Tensor& ours, const torch::Tensor& theirs, double tolerance) {
  const double diff = (ours.to(torch::kCPU).to(torch::kDouble) - theirs.to(torch::kDouble)).abs().max().item<double>();
  const double scale = theirs.abs().max().item<double>();
  EXPECT_LT(diff, tolerance) << what << ": max |ours - HF| = " << diff << " (max |HF| = " << scale << ")";
  std::printf("  %-64s max |diff| %.3g (max |HF| %.3g)\n", what.c_str(), diff, scale);
}

void check_case(const Case& c, const torch::Device& device, const std::string& kernel) {
  ModelConfig config = c.config;
  config.attention = *attention_kernels().parse(kernel);
  T5Model model(config);
  // Names both ways: every HF parameter exists here with its shape, and nothing else.
  std::set<std::string> ours;
  for (const auto& p : model->named_parameters()) {
    ours.insert(p.key());
    ASSERT_TRUE(c.shapes.count(p.key())) << "not a Hugging Face parameter: " << p.key();
    EXPECT_EQ(p.value().sizes().vec(), c.shapes.at(p.key())) << p.key();
  }
  for (const auto& [name, shape] : c.shapes) EXPECT_TRUE(ours.count(name)) << "missing Hugging Face parameter " << name;
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->named_parameters())
      p.value().copy_(read_tensor(c.dir / (p.key() + ".bin"), c.shapes.at(p.key()), torch::kFloat));
  }
  model->to(device);
  model->eval();
  auto ids = [&](const char* name, int64_t len) {
    return read_tensor(c.dir / (std::string(name) + ".bin"), {c.batch, len}, torch::kLong).to(device);
  };
  const torch::Tensor input_ids = ids("input_ids", c.enc_len), attention_mask = ids("attention_mask", c.enc_len);
  const torch::Tensor decoder_input_ids = ids("decoder_input_ids", c.dec_len);
  const torch::Tensor decoder_mask = ids("decoder_attention_mask", c.dec_len), labels = ids("labels", c.dec_len);

  const torch::Tensor hidden = model->encode(input_ids, attention_mask);
  const torch::Tensor logits = model->decode(decoder_input_ids, decoder_mask, hidden, attention_mask);
  const torch::Tensor hf_logits = read_tensor(c.dir / "logits.bin", {c.batch, c.dec_len, 144}, torch::kFloat);
  const torch::Tensor hf_hidden = read_tensor(c.dir / "encoder_hidden.bin", {c.batch, c.enc_len, config.d_model}, torch::kFloat);
  // Real positions only: what HF puts at padded positions is not specified.
  const torch::Tensor enc_real = attention_mask.to(torch::kCPU).to(torch::kBool).unsqueeze(-1);
  const torch::Tensor dec_real = decoder_mask.to(torch::kCPU).to(torch::kBool).unsqueeze(-1);
  const std::string tag = c.dir.filename().string() + " " + device.str() + " " + kernel;
  compare(tag + " encoder hidden", hidden.detach().to(torch::kCPU) * enc_real, hf_hidden * enc_real, 1e-4);
  compare(tag + " logits", logits.detach().to(torch::kCPU) * dec_real, hf_logits * dec_real, 1e-4);

  loss_terms(logits, labels).loss_sum.backward();
  std::ifstream grads(c.dir / "grads.tsv");
  double worst = 0;
  std::string worst_name;
  for (std::string name; std::getline(grads, name);) {
    const torch::Tensor hf = read_tensor(c.dir / (name + ".grad.bin"), c.shapes.at(name), torch::kFloat);
    const torch::Tensor mine = model->named_parameters()[name].grad().to(torch::kCPU);
    const double rel = (mine - hf).abs().max().item<double>() / std::max(1e-6, hf.abs().max().item<double>());
    EXPECT_LT(rel, 1e-4) << tag << " gradient of " << name;
    if (rel > worst) worst = rel, worst_name = name;
  }
  std::printf("  %-64s worst relative gradient difference %.3g (%s)\n", (tag + " gradients").c_str(), worst,
              worst_name.c_str());
}

TEST(HuggingFaceParity, SameLogitsAndGradientsAsT5ForConditionalGeneration) {
  const char* root = std::getenv("ANKH_HF_REFERENCE");
  if (!root) GTEST_SKIP() << "set ANKH_HF_REFERENCE to the output of tests/gpu/model_hf_reference.py";
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (!fs::exists(entry.path() / "config.txt")) continue;
    const Case c = load_case(entry.path());
    check_case(c, torch::kCPU, "plain");
    check_case(c, torch::kCPU, "fused");
    if (torch::cuda::is_available()) {
      check_case(c, torch::Device(torch::kCUDA, 0), "plain");
      check_case(c, torch::Device(torch::kCUDA, 0), "fused");
      if (sdpa_available()) check_case(c, torch::Device(torch::kCUDA, 0), "sdpa");
    }
    ++cases;
  }
  EXPECT_GT(cases, 0) << "no reference cases under " << root;
}

}  // namespace
}  // namespace ankh::model
