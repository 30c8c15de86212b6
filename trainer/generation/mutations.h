// The inputs of `ankh score` (docs/generation.md, "Scoring variants"): a mutations CSV in the
// ProteinGym layout, read with RFC 4180 quoting and written back verbatim with one more column,
// and its `mutant` texts ("A23G:K40R", 1-based positions) parsed and checked against a protein.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ankh::generation {

// One substitution: the residue letter at 1-based `position` changes from `wild_type` to `mutant`.
struct Substitution {
  int64_t position = 0;
  char wild_type = 0;
  char mutant = 0;
};

// The most distinct positions one mutant may change: one sentinel each, and the vocabulary has
// data::kNumSentinels of them.
inline constexpr int64_t kMaxMutatedPositions = 116;

// Parses a ProteinGym `mutant` text: substitutions "A23G" joined by ':' (spaces around them
// allowed), each an upper-case residue letter of Ankh's vocabulary, a 1-based position and
// another letter (the same letter: synonymous, score 0). "", "_wt", "wt" and "WT" mean the wild
// type itself (no substitution, score 0). Returned sorted by position. InputError with `where` (the
// row) and the text for bad syntax, position 0, a stop ('*'), a deletion ('-', "del"), an
// insertion ("ins"), a position named twice or more than kMaxMutatedPositions positions.
std::vector<Substitution> parse_mutant(std::string_view text, const std::string& where);

// InputError with `where` when a substitution lies outside `protein` (residue letters, upper case)
// or names a wild-type residue other than the protein's (both letters and the protein's length
// and `protein_name` in the message).
void check_mutant(const std::vector<Substitution>& substitutions, std::string_view protein, std::string_view text,
                  const std::string& protein_name, const std::string& where);

// A CSV file (RFC 4180: fields separated by ',', optionally in double quotes, "" for a quote and
// commas and line breaks allowed inside quotes; \n or \r\n line ends; a UTF-8 byte order mark
// dropped). Each record keeps its raw text so that it can be written back byte for byte.
struct CsvTable {
  std::vector<std::string> header;               // field values of the first record
  std::string header_raw;                        // its text without the line end
  std::vector<std::vector<std::string>> rows;    // field values of every later record
  std::vector<std::string> raw;                  // each row's text without the line end
  std::vector<int64_t> lines;                    // the file line each row starts on (1-based)
  std::string line_end = "\n";                   // "\r\n" when the header ends so
  // The index of column `name` in the header; -1 when absent.
  int64_t column(std::string_view name) const;
};

// Parses `text`; `source` names the file in errors. InputError (file:line) for an unterminated
// quote, text after a closing quote, an empty file, a duplicate column name or a row whose field
// count differs from the header's. Blank lines are skipped.
CsvTable parse_csv(std::string_view text, const std::string& source);

// `value` as one CSV field: quoted (quotes doubled) when it holds ',', '"', '\r' or '\n'.
std::string csv_field(std::string_view value);

// The table with one more column `name` whose value for row i is values[i]: the header and every
// row written back verbatim, then ",value", each record ended by the table's line end.
std::string csv_with_column(const CsvTable& table, const std::string& name, const std::vector<std::string>& values);

}  // namespace ankh::generation
