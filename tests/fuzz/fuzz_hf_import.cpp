// Fuzz target: a Hugging Face directory's config.json and tokenizer.json, as `model.init_from` and
// `ankh embed` read them (trainer/weights/model_io.h): load_weights (config.json to a model config),
// the T5 tensor layout that config.json implies (checkpoints/t5_layout.h) checked against the
// directory's tensors, and the tokenizer's vocabulary check.
//
// One input holds both files: config.json, then optionally a line "--- tokenizer.json ---" and
// tokenizer.json. model.safetensors is an empty, valid file (the safetensors target covers it).
// Seeds: tests/fuzz/corpus/hf_import/.
#include <string>

#include "checkpoints/t5_layout.h"
#include "trainer/weights/model_io.h"
#include "tests/fuzz/support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ankh;
  namespace fs = std::filesystem;
  static const std::string kSeparator = "\n--- tokenizer.json ---\n";
  static const fs::path dir = [] {
    const fs::path d = fuzz::scratch_dir() / "hf";
    fs::create_directories(d);
    // 8-byte header length, then "{}" padded to 8 bytes: a safetensors file with no tensors.
    fuzz::write_scratch("hf/model.safetensors", std::string("\x08\0\0\0\0\0\0\0{}      ", 16));
    return d;
  }();

  const std::string_view input = fuzz::as_text(data, size);
  const std::size_t cut = input.find(kSeparator);
  fuzz::write_scratch("hf/config.json", input.substr(0, cut));
  std::error_code ec;
  if (cut == std::string_view::npos)
    fs::remove(dir / "tokenizer.json", ec);
  else
    fuzz::write_scratch("hf/tokenizer.json", input.substr(cut + kSeparator.size()));

  fuzz::expect_clean([&] {
    const weights::LoadedWeights loaded = weights::load_weights(dir);
    weights::check_hf_vocabulary(dir);
    const auto layout = checkpoints::t5_layout(loaded.hf_config, /*encoder_only=*/false);
    (void)checkpoints::check_t5_tensors(layout, checkpoints::shapes_of(loaded.tensors));
  });
  return 0;
}
