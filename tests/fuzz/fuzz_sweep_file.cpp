// Fuzz target: a sweep file (trainer/app/sweep/sweep_file.h, read_sweep_file: its structure; the
// runs it names are the run-config target's business). Seeds: tests/fuzz/corpus/sweep_file/.
#include "trainer/app/sweep/sweep_file.h"
#include "tests/fuzz/support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ankh;
  const auto file = fuzz::write_scratch("sweep.yaml", fuzz::as_text(data, size));
  fuzz::expect_clean([&] { (void)sweep::read_sweep_file(file); });
  return 0;
}
