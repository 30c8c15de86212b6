// Fuzz target: the FASTA reader on gzip input (data/input_stream.h's zlib stream). An input that
// starts with gzip's magic bytes is written as it is, so that mutations of the seeds make
// truncated and corrupt streams; any other input is compressed first, so that arbitrary FASTA text
// also goes through decompression in blocks. Seeds: tests/fuzz/corpus/fasta_gzip/.
#include <string>

#include <zlib.h>

#include "tests/fuzz/fasta_common.h"

namespace {

std::string gzip(std::string_view text) {
  z_stream z{};
  // 15 window bits + 16: a gzip wrapper rather than zlib's.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&z, text.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes = ankh::fuzz::as_text(data, size);
  const bool is_gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  const auto file = ankh::fuzz::write_scratch("input.fasta.gz", is_gzip ? std::string(bytes) : gzip(bytes));
  // Odd, small blocks: headers, records and '*' straddle the reads from zlib.
  ankh::fuzz::read_fasta_all_policies(file, 61);
  return 0;
}
