#include "trainer/generation/mutations.h"

#include <algorithm>
#include <set>

#include "core/error.h"
#include "core/strings.h"
#include "data/vocab.h"

namespace ankh::generation {

namespace {

bool is_vocabulary_letter(char c) {
  return c >= 'A' && c <= 'Z' && data::kResidues.find(c) != std::string_view::npos;
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

Substitution parse_one(std::string_view part, std::string_view text, const std::string& where) {
  const std::string hint = "a mutant is substitutions such as A23G joined by ':' (A23G:K40R), 1-based positions";
  const auto bad = [&](const std::string& why) -> core::InputError {
    return core::InputError("mutant " + quoted(text) + ": " + why, where, hint);
  };
  const std::string lower = core::to_lower(part);
  if (lower.find("ins") != std::string::npos)
    throw bad("insertion " + quoted(part) + " is not supported (substitutions only)");
  if (lower.find("del") != std::string::npos || part.find('-') != std::string_view::npos)
    throw bad("deletion " + quoted(part) + " is not supported (substitutions only)");
  if (part.find('*') != std::string_view::npos)
    throw bad("stop " + quoted(part) + " is not supported (substitutions by residues only)");
  if (part.size() < 3) throw bad(quoted(part) + " is not a substitution like A23G");
  const char wt = part.front(), mt = part.back();
  const std::string_view digits = part.substr(1, part.size() - 2);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) || digits.size() > 9)
    throw bad(quoted(part) + " is not a substitution like A23G (letter, position, letter)");
  if (!is_vocabulary_letter(wt) || !is_vocabulary_letter(mt))
    throw bad(quoted(part) + " names a letter outside Ankh's residues (upper case " + std::string(data::kResidues) + ")");
  const int64_t position = *core::parse_int(digits);
  if (position < 1) throw bad(quoted(part) + ": positions are 1-based, so 0 is not one");
  return {position, wt, mt};
}

}  // namespace

std::vector<Substitution> parse_mutant(std::string_view text, const std::string& where) {
  const std::string trimmed = core::trim(text);
  if (trimmed.empty() || trimmed == "_wt" || trimmed == "wt" || trimmed == "WT") return {};
  std::vector<Substitution> out;
  std::set<int64_t> seen;
  for (const std::string& raw : core::split(trimmed, ':')) {
    const std::string part = core::trim(raw);
    if (part.empty())
      throw core::InputError("mutant " + quoted(text) + ": an empty substitution between ':'", where,
                             "a mutant is substitutions such as A23G joined by ':' (A23G:K40R)");
    const Substitution s = parse_one(part, text, where);
    if (!seen.insert(s.position).second)
      throw core::InputError("mutant " + quoted(text) + ": position " + std::to_string(s.position) + " is changed twice", where,
                             "name each position once");
    out.push_back(s);
  }
  if (static_cast<int64_t>(out.size()) > kMaxMutatedPositions)
    throw core::InputError("mutant changes " + std::to_string(out.size()) + " positions, more than the " +
                               std::to_string(kMaxMutatedPositions) + " sentinels of the vocabulary",
                           where, "score mutants of at most " + std::to_string(kMaxMutatedPositions) + " positions");
  std::sort(out.begin(), out.end(), [](const Substitution& a, const Substitution& b) { return a.position < b.position; });
  return out;
}

void check_mutant(const std::vector<Substitution>& substitutions, std::string_view protein, std::string_view text,
                  const std::string& protein_name, const std::string& where) {
  const auto length = static_cast<int64_t>(protein.size());
  for (const Substitution& s : substitutions) {
    const std::string part = std::string(1, s.wild_type) + std::to_string(s.position) + s.mutant;
    if (s.position > length)
      throw core::InputError("mutant " + quoted(text) + ": position " + std::to_string(s.position) + " of " + part +
                                 " is outside protein '" + protein_name + "' of " + std::to_string(length) + " residues",
                             where, "positions are 1-based and must be at most the protein's length");
    const char actual = protein[static_cast<std::size_t>(s.position - 1)];
    if (actual != s.wild_type)
      throw core::InputError("mutant " + quoted(text) + ": " + part + " names wild type " + std::string(1, s.wild_type) +
                                 " but protein '" + protein_name + "' has " + std::string(1, actual) + " at position " +
                                 std::to_string(s.position),
                             where, "check the FASTA record and that positions are 1-based");
  }
}

// --- CSV -----------------------------------------------------------------------------------------

int64_t CsvTable::column(std::string_view name) const {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int64_t>(i);
  return -1;
}

CsvTable parse_csv(std::string_view text, const std::string& source) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  CsvTable table;
  std::size_t pos = 0;
  int64_t line = 1;
  bool have_header = false;
  while (pos < text.size()) {
    const int64_t start_line = line;
    const std::size_t start = pos;
    std::vector<std::string> fields(1);
    bool quoted_field = false, after_quote = false;
    std::size_t end = text.size(), next = text.size();
    while (pos < text.size()) {
      const char c = text[pos];
      if (quoted_field) {
        if (c == '"') {
          if (pos + 1 < text.size() && text[pos + 1] == '"') {
            fields.back() += '"';
            pos += 2;
            continue;
          }
          quoted_field = false;
          after_quote = true;
        } else {
          if (c == '\n') ++line;
          fields.back() += c;
        }
        ++pos;
        continue;
      }
      if (c == '\n' || (c == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n')) {
        end = pos;
        next = pos + (c == '\r' ? 2 : 1);
        if (!have_header && c == '\r') table.line_end = "\r\n";
        break;
      }
      if (c == ',') {
        fields.emplace_back();
        after_quote = false;
      } else if (c == '"' && fields.back().empty() && !after_quote) {
        quoted_field = true;
      } else if (after_quote) {
        throw core::InputError("text after a closing quote", source + ":" + std::to_string(line),
                               "a quoted field ends at its closing quote; write \"\" for a quote inside it");
      } else {
        fields.back() += c;
      }
      ++pos;
    }
    if (quoted_field)
      throw core::InputError("a quoted field is never closed", source + ":" + std::to_string(start_line),
                             "close the quote, or write \"\" for a quote inside a field");
    pos = next;
    ++line;
    const std::string_view raw = text.substr(start, end - start);
    if (raw.empty() || (raw.find_first_not_of(" \t\r") == std::string_view::npos && fields.size() == 1)) continue;  // blank line
    if (!have_header) {
      have_header = true;
      table.header = std::move(fields);
      table.header_raw = std::string(raw);
      std::set<std::string> names;
      for (const auto& h : table.header)
        if (!names.insert(h).second)
          throw core::InputError("column '" + h + "' appears twice in the header", source + ":" + std::to_string(start_line));
      continue;
    }
    if (fields.size() != table.header.size())
      throw core::InputError("row " + std::to_string(table.rows.size() + 1) + " has " + std::to_string(fields.size()) +
                                 " fields but the header has " + std::to_string(table.header.size()),
                             source + ":" + std::to_string(start_line), "quote fields that contain commas");
    table.rows.push_back(std::move(fields));
    table.raw.emplace_back(raw);
    table.lines.push_back(start_line);
  }
  if (!have_header) throw core::InputError("empty CSV file (no header)", source, "the first line names the columns, e.g. mutant,DMS_score");
  return table;
}

std::string csv_field(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (const char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_with_column(const CsvTable& table, const std::string& name, const std::vector<std::string>& values) {
  if (values.size() != table.rows.size())
    throw core::Error("internal: " + std::to_string(values.size()) + " values for " + std::to_string(table.rows.size()) + " rows",
                      "csv_with_column");
  std::string out = table.header_raw + "," + csv_field(name) + table.line_end;
  for (std::size_t i = 0; i < table.rows.size(); ++i) out += table.raw[i] + "," + csv_field(values[i]) + table.line_end;
  return out;
}

}  // namespace ankh::generation
