#include "data/fasta_reader.h"

#include <array>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include <cstring>

#include "core/error.h"
#include "data/vocab.h"

namespace ankh::data {

namespace {

// The parse table: residue ids (>= 0) for letters of either case; negative codes for the rest,
// so that the hot loop only ORs the looked-up bytes and checks the sign once per line.
constexpr int8_t kInvalid = -1;
constexpr int8_t kBlank = -2;  // spaces, tabs, '\r': ignored inside sequence lines
constexpr int8_t kStop = -3;   // '*': allowed as the last character of a record

const std::array<int8_t, 256>& parse_table() {
  static const std::array<int8_t, 256> table = [] {
    std::array<int8_t, 256> t = residue_table();
    for (unsigned char c : {' ', '\t', '\r', '\v', '\f'}) t[c] = kBlank;
    t[static_cast<unsigned char>('*')] = kStop;
    return t;
  }();
  return table;
}

#if defined(__x86_64__) && defined(__GNUC__)
// Maps 16 bytes at a time with two PSHUFB lookups while every byte is a vocabulary letter (the
// bulk of any FASTA file); returns how many bytes it mapped (a multiple of 16), leaving the rest
// (and any block with something else) to the table loop. The same ids as residue_table().
__attribute__((target("ssse3"))) std::size_t map_letters_ssse3(const char* p, std::size_t n, uint8_t* dst) {
  struct Tables {
    alignas(16) uint8_t low[16] = {}, high[16] = {};  // ids of 'A'+k and 'Q'+k; 0: not in the vocabulary
    Tables() {
      for (int k = 0; k < 26; ++k) {
        const int id = residue_table()[static_cast<unsigned char>('A' + k)];
        (k < 16 ? low[k] : high[k - 16]) = static_cast<uint8_t>(id < 0 ? 0 : id);
      }
    }
  };
  static const Tables tables;
  const __m128i t_low = _mm_load_si128(reinterpret_cast<const __m128i*>(tables.low));
  const __m128i t_high = _mm_load_si128(reinterpret_cast<const __m128i*>(tables.high));
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    // Letter index 0..25 for either case; anything else lands outside [0, 25].
    const __m128i index = _mm_sub_epi8(_mm_and_si128(c, _mm_set1_epi8(static_cast<char>(0xDF))), _mm_set1_epi8('A'));
    const __m128i letter = _mm_cmpeq_epi8(_mm_min_epu8(index, _mm_set1_epi8(25)), index);
    const __m128i first = _mm_cmpeq_epi8(_mm_min_epu8(index, _mm_set1_epi8(15)), index);
    const __m128i id = _mm_or_si128(_mm_and_si128(first, _mm_shuffle_epi8(t_low, index)),
                                    _mm_andnot_si128(first, _mm_shuffle_epi8(t_high, _mm_sub_epi8(index, _mm_set1_epi8(16)))));
    const __m128i ok = _mm_andnot_si128(_mm_cmpeq_epi8(id, _mm_setzero_si128()), letter);
    if (_mm_movemask_epi8(ok) != 0xFFFF) break;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), id);
  }
  return i;
}

std::size_t map_letters_fast(const char* p, std::size_t n, uint8_t* dst) {
  static const bool ssse3 = __builtin_cpu_supports("ssse3");
  return ssse3 ? map_letters_ssse3(p, n, dst) : 0;
}
#else
std::size_t map_letters_fast(const char*, std::size_t, uint8_t*) { return 0; }
#endif

inline bool is_id_end(unsigned char c) { return c <= ' '; }  // blanks, controls (\x01), NUL

std::string show_char(unsigned char c) {
  if (c >= 0x21 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "byte 0x%02X", c);
  return buf;
}

}  // namespace

const core::Choices<InvalidPolicy>& invalid_policies() {
  static const core::Choices<InvalidPolicy> table{
      {InvalidPolicy::Error, "error"}, {InvalidPolicy::Unk, "unk"}, {InvalidPolicy::Skip, "skip"}};
  return table;
}

FastaReader::FastaReader(std::unique_ptr<InputStream> in, InvalidPolicy policy, std::size_t buffer_bytes)
    : in_(std::move(in)), policy_(policy), buf_(new char[buffer_bytes]), buf_size_(buffer_bytes) {
  reserve(1 << 16);
}

FastaReader::~FastaReader() = default;

bool FastaReader::fill() {
  const std::string_view block = in_->next_block(buf_.get(), buf_size_);
  pos_ = block.data();
  end_ = pos_ + block.size();
  return !block.empty();
}

void FastaReader::reserve(std::size_t n) {
  if (n <= capacity_) return;
  std::size_t cap = std::max<std::size_t>(capacity_ * 2, n);
  std::unique_ptr<uint8_t[]> grown(new uint8_t[cap]);
  if (length_ > 0) std::memcpy(grown.get(), tokens_.get(), length_);
  tokens_ = std::move(grown);
  capacity_ = cap;
}

inline void FastaReader::push(uint8_t id) {
  reserve(length_ + 1);
  tokens_[length_++] = id;
}

bool FastaReader::next(FastaRecord& out) {
  for (;;) {
    if (pos_ == end_ && !fill()) {
      // End of input: a header line without its newline, then the last record.
      if (in_header_) {
        in_header_ = false;
        finish_header(header_.data(), header_.data() + header_.size());
      }
      if (in_record_) {
        in_record_ = false;
        if (finish_record(out)) return true;
      }
      return false;
    }

    if (in_header_) {
      const char* nl = static_cast<const char*>(std::memchr(pos_, '\n', static_cast<std::size_t>(end_ - pos_)));
      if (!nl) {  // the header continues in the next block
        header_.append(pos_, end_);
        pos_ = end_;
        continue;
      }
      if (header_.empty()) {
        finish_header(pos_, nl);  // the usual case: the whole line is in this block
      } else {
        header_.append(pos_, nl);
        finish_header(header_.data(), header_.data() + header_.size());
      }
      pos_ = nl + 1;
      ++line_;
      at_line_start_ = true;
      in_header_ = false;
      continue;
    }

    if (at_line_start_) {
      if (*pos_ == '>') {
        if (in_record_) {
          // The previous record ends here; the header is read on the next pass of the loop.
          in_record_ = false;
          if (finish_record(out)) return true;
          continue;
        }
        ++pos_;
        at_line_start_ = false;
        in_header_ = true;
        in_record_ = true;
        header_line_ = line_;
        header_.clear();
        length_ = 0;
        pending_star_ = record_invalid_ = record_counted_ = false;
        ++counts_.records;
        continue;
      }
      at_line_start_ = false;
    }

    // Sequence bytes up to the end of the line or of the buffer (lines may span buffers).
    const char* nl = static_cast<const char*>(std::memchr(pos_, '\n', static_cast<std::size_t>(end_ - pos_)));
    const char* stop = nl ? nl : end_;
    if (stop > pos_) {
      if (in_record_) append_residues(pos_, stop);
      else before_first_header(pos_, stop);
    }
    if (nl) {
      pos_ = nl + 1;
      ++line_;
      at_line_start_ = true;
    } else {
      pos_ = end_;
    }
  }
}

void FastaReader::finish_header(const char* begin, const char* end) {
  // The id ends at the first blank (or control character, such as NCBI's \x01 separator).
  const char* id_end = begin;
  while (id_end < end && !is_id_end(static_cast<unsigned char>(*id_end))) ++id_end;
  id_.assign(begin, id_end);
  if (id_.empty())
    throw core::InputError("a header without an id ('>' must be followed directly by the record id)",
                           in_->name() + ":" + std::to_string(header_line_));
}

bool FastaReader::finish_record(FastaRecord& out) {
  if (pending_star_) ++counts_.stripped_stops;
  pending_star_ = false;
  if (record_invalid_) {
    ++counts_.skipped_invalid;
    return false;
  }
  if (length_ == 0) {
    ++counts_.empty_records;
    return false;
  }
  out.id = id_;
  out.tokens = tokens_.get();
  out.length = length_;
  out.line = header_line_;
  ++counts_.sequences;
  counts_.residues += static_cast<int64_t>(length_);
  return true;
}

void FastaReader::append_residues(const char* p, const char* stop) {
  // A trailing '\r' (Windows line ending) would send every line of such a file down the slow path.
  if (stop[-1] == '\r') --stop;
  const std::size_t n = static_cast<std::size_t>(stop - p);
  if (n == 0) return;
  reserve(length_ + n);
  const auto& table = parse_table();
  uint8_t* dst = tokens_.get() + length_;
  int8_t any_negative = 0;
  for (std::size_t i = map_letters_fast(p, n, dst); i < n; ++i) {
    const int8_t v = table[static_cast<unsigned char>(p[i])];
    dst[i] = static_cast<uint8_t>(v);
    any_negative = static_cast<int8_t>(any_negative | v);
  }
  if (any_negative >= 0 && !pending_star_) {
    length_ += n;
    return;
  }
  append_slow(p, stop);  // rare: blanks, '*', invalid characters
}

void FastaReader::append_slow(const char* p, const char* stop) {
  const auto& table = parse_table();
  for (; p < stop; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    const int8_t v = table[c];
    if (v >= 0) {
      if (pending_star_) {  // a '*' with residues after it is not a stop codon
        pending_star_ = false;
        invalid('*', star_line_);
      }
      push(static_cast<uint8_t>(v));
    } else if (v == kBlank) {
      continue;
    } else if (v == kStop) {
      if (pending_star_) invalid('*', star_line_);
      pending_star_ = true;
      star_line_ = line_;
    } else {
      invalid(c, line_);
    }
  }
}

void FastaReader::invalid(unsigned char c, int64_t line) {
  ++counts_.invalid_characters;
  if (!record_counted_) {
    record_counted_ = true;
    ++counts_.records_with_invalid;
  }
  switch (policy_) {
    case InvalidPolicy::Error:
      throw core::InputError("invalid character " + show_char(c) + " in the sequence of record '" + id_ + "'",
                             in_->name() + ":" + std::to_string(line),
                             "Ankh's vocabulary has the letters ALGVSREDTIPKFQNYMHWCXBOUZ; --on-invalid unk stores "
                             "other characters as <unk>, --on-invalid skip drops such records");
    case InvalidPolicy::Unk:
      ++counts_.unknown_residues;
      push(static_cast<uint8_t>(kUnk));
      break;
    case InvalidPolicy::Skip:
      record_invalid_ = true;
      break;
  }
}

void FastaReader::before_first_header(const char* p, const char* stop) const {
  for (; p < stop; ++p)
    if (parse_table()[static_cast<unsigned char>(*p)] != kBlank)
      throw core::InputError("sequence data before the first header", in_->name() + ":" + std::to_string(line_),
                             "a FASTA record starts with a '>' header line");
}

}  // namespace ankh::data
