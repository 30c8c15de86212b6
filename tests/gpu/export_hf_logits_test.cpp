// `ankh export` read by Hugging Face transformers computes ankh's logits: the logits that
// scripts/check_hf_export.py --logits wrote from the export (transformers, fp32) against ankh's own
// from the checkpoint it was exported from, on the CPU and on CUDA when present, within 1e-4.
//   ANKH_EXPORT_SOURCE=RUN_DIR ANKH_EXPORT_LOGITS=LOGITS_DIR gpu_export_hf_logits_test
// scripts/gpu/check.sh sets both; skips when they are not set (transformers is not on CI hosts).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "trainer/generation/decoding_model.h"

namespace fs = std::filesystem;

namespace {

torch::Tensor read_bin(const fs::path& path, torch::IntArrayRef shape, torch::ScalarType dtype) {
  auto t = torch::empty(shape, dtype);
  std::ifstream in(path, std::ios::binary);
  const auto bytes = static_cast<std::streamsize>(t.numel() * t.element_size());
  in.read(static_cast<char*>(t.data_ptr()), bytes);
  EXPECT_EQ(in.gcount(), bytes) << path;
  return t;
}

}  // namespace

TEST(ExportParity, TransformersLogitsOfTheExportEqualAnkhsOfTheCheckpoint) {
  const char* source = std::getenv("ANKH_EXPORT_SOURCE");
  const char* logits_dir = std::getenv("ANKH_EXPORT_LOGITS");
  if (!source || !logits_dir) GTEST_SKIP() << "set ANKH_EXPORT_SOURCE and ANKH_EXPORT_LOGITS (scripts/gpu/check.sh)";
  const fs::path dir(logits_dir);
  int64_t b = 0, le = 0, ld = 0, vocab = 0;
  std::ifstream(dir / "shapes.txt") >> b >> le >> ld >> vocab;
  ASSERT_GT(b * le * ld * vocab, 0) << dir / "shapes.txt";
  const auto ids = read_bin(dir / "input_ids.bin", {b, le}, torch::kLong);
  const auto mask = read_bin(dir / "attention_mask.bin", {b, le}, torch::kLong);
  const auto dec = read_bin(dir / "decoder_input_ids.bin", {b, ld}, torch::kLong);
  const auto expected = read_bin(dir / "logits.bin", {b, ld, vocab}, torch::kFloat);

  std::vector<torch::Device> devices{torch::kCPU};
  if (torch::cuda::is_available()) devices.emplace_back(torch::kCUDA, 0);
  for (const auto& device : devices) {
    auto m = ankh::generation::load_decoding_model(source, device, torch::kFloat, "be compared");
    torch::NoGradGuard no_grad;
    const auto hidden = m.model->encode(ids.to(device), mask.to(device));
    const auto logits = m.model->decode(dec.to(device), torch::ones_like(dec).to(device), hidden, mask.to(device)).cpu();
    ASSERT_EQ(logits.sizes(), expected.sizes());
    const double diff = (logits - expected).abs().max().item<double>();
    std::cout << device << ": max |ankh - transformers| = " << diff << " over " << logits.numel() << " logits\n";
    EXPECT_LT(diff, 1e-4) << device;
  }
}
