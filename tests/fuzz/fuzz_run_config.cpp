// Fuzz target: a YAML run config (trainer/run_config.h, load_run_config: core::ConfigSource reads the
// YAML, every section's visit() converts and range-checks its keys, validate() the rest), then the
// resolved config printed back as checkpoints store it. Seeds: tests/fuzz/corpus/run_config/.
#include "trainer/run_config.h"
#include "tests/fuzz/support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ankh;
  const auto file = fuzz::write_scratch("run.yaml", fuzz::as_text(data, size));
  fuzz::expect_clean([&] {
    const trainer::RunConfig config = trainer::load_run_config(file, {});
    (void)trainer::to_yaml(config);
  });
  return 0;
}
