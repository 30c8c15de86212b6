// Fuzz target: a dataset's manifest.yaml (data/manifest.h, Manifest::parse), which every rank reads
// before it opens the shards. Seeds: tests/fuzz/corpus/manifest/.
#include "data/manifest.h"
#include "tests/fuzz/support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ankh;
  const std::string text(fuzz::as_text(data, size));
  fuzz::expect_clean([&] { (void)data::Manifest::parse(text, "manifest.yaml"); });
  return 0;
}
