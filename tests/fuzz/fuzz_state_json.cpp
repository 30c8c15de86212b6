// Fuzz target: a checkpoint's state.json as a resume reads it: parsed as
// checkpoints::CheckpointReader::read_json does (a parse error is a CheckpointError), then
// trainer::progress_from_json (trainer/checkpointing.h). Seeds: tests/fuzz/corpus/state_json/.
#include <nlohmann/json.hpp>

#include "trainer/checkpointing.h"
#include "tests/fuzz/support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ankh;
  fuzz::expect_clean([&] {
    nlohmann::json state;
    try {
      state = nlohmann::json::parse(fuzz::as_text(data, size));
    } catch (const nlohmann::json::exception& e) {
      throw core::CheckpointError(e.what(), "state.json");  // what read_json does
    }
    (void)trainer::progress_from_json(state, "state.json");
  });
  return 0;
}
