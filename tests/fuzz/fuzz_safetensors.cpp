// Fuzz target: the safetensors reader (checkpoints/safetensors.h): open and validate the header,
// then load every tensor, as a checkpoint or Hugging Face import does. Seeds:
// tests/fuzz/corpus/safetensors/.
#include "checkpoints/safetensors.h"
#include "tests/fuzz/support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ankh;
  const auto file = fuzz::write_scratch("model.safetensors", fuzz::as_text(data, size));
  fuzz::expect_clean([&] {
    const checkpoints::SafetensorsReader reader(file);
    for (const auto& name : reader.names()) (void)reader.info(name);
    uint64_t xxh64 = 0;
    const auto tensors = reader.load_all(&xxh64);
    for (const auto& [name, tensor] : tensors) {
      // The tensor read is the one the header describes.
      const auto& info = reader.info(name);
      if (tensor.scalar_type() != info.dtype || tensor.sizes().vec() != info.shape ||
          static_cast<uint64_t>(tensor.nbytes()) != info.bytes())
        fuzz::not_a_user_error("mismatch", ("tensor " + name + " differs from its header").c_str());
    }
  });
  return 0;
}
