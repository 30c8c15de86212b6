// A streaming FASTA parser: one pass over large blocks of an InputStream, residues mapped to
// vocabulary ids through a 256-entry table as they are read, memory bounded by the longest
// record. Accepts lower case, Windows line endings, blank lines, spaces inside sequences, and a
// trailing '*' (stop codon); anything else outside the vocabulary follows the InvalidPolicy.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/choices.h"
#include "data/input_stream.h"
#include "data/manifest.h"

namespace ankh::data {

enum class InvalidPolicy {
  Error,  // stop with an error naming file, line and character (the default)
  Unk,    // store the character as <unk>
  Skip,   // drop the whole record
};
const core::Choices<InvalidPolicy>& invalid_policies();  // error | unk | skip (--on-invalid)
inline const char* name_of(InvalidPolicy p) { return invalid_policies().name(p); }

// One record, valid until the next call to FastaReader::next.
struct FastaRecord {
  std::string_view id;     // first word of the header, without '>'
  const uint8_t* tokens = nullptr;  // residue ids
  std::size_t length = 0;
  int64_t line = 0;        // line of the header (1-based)
};

class FastaReader {
 public:
  FastaReader(std::unique_ptr<InputStream> in, InvalidPolicy policy, std::size_t buffer_bytes = 4 << 20);
  ~FastaReader();

  // The next non-empty record that the policy keeps; false at the end of the input.
  bool next(FastaRecord& out);

  // records, sequences, residues, empty_records, stripped_stops and the invalid-character counts
  // of this file so far (duplicate_ids is the caller's business).
  const PreprocessCounts& counts() const { return counts_; }
  const InputStream& stream() const { return *in_; }

 private:
  bool fill();
  void finish_header(const char* begin, const char* end);
  bool finish_record(FastaRecord& out);
  void append_residues(const char* p, const char* stop);
  void append_slow(const char* p, const char* stop);
  void invalid(unsigned char c, int64_t line);
  void before_first_header(const char* p, const char* stop) const;
  void push(uint8_t id);
  void reserve(std::size_t n);

  std::unique_ptr<InputStream> in_;
  InvalidPolicy policy_;
  std::unique_ptr<char[]> buf_;
  std::size_t buf_size_;
  const char* pos_ = nullptr;
  const char* end_ = nullptr;

  int64_t line_ = 1;
  bool at_line_start_ = true;
  bool in_header_ = false;  // inside a header line
  bool in_record_ = false;  // a header has been seen and its record is not finished
  int64_t header_line_ = 0;
  std::string header_, id_;  // header_: a header line spanning blocks

  std::unique_ptr<uint8_t[]> tokens_;
  std::size_t length_ = 0, capacity_ = 0;
  bool pending_star_ = false;  // a '*' seen: fine if nothing but the record's end follows
  int64_t star_line_ = 0;
  bool record_invalid_ = false;   // Skip: drop this record when it ends
  bool record_counted_ = false;   // counted in records_with_invalid already

  PreprocessCounts counts_;
};

}  // namespace ankh::data
