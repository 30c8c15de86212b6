// Fuzz target: the FASTA reader on a plain file (data/fasta_reader.h over data/input_stream.h's
// memory-mapped stream), every --on-invalid policy. Seeds: tests/fuzz/corpus/fasta/.
#include "tests/fuzz/fasta_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto file = ankh::fuzz::write_scratch("input.fasta", ankh::fuzz::as_text(data, size));
  // The plain stream maps page-sized windows at least: a 1-byte request gives one page at a time.
  ankh::fuzz::read_fasta_all_policies(file, 1);
  return 0;
}
