// Fuzz target: a checkpoint's COMMITTED marker (checkpoints/commit_marker.h, CommitMarker::parse),
// which resume, export and embed read before any other file of a checkpoint. Seeds:
// tests/fuzz/corpus/commit_marker/.
#include "checkpoints/commit_marker.h"
#include "tests/fuzz/support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ankh;
  const std::string text(fuzz::as_text(data, size));
  fuzz::expect_clean([&] { (void)checkpoints::CommitMarker::parse(text, "COMMITTED"); });
  return 0;
}
