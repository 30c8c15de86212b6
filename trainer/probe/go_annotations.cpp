#include "trainer/probe/go_annotations.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/files.h"
#include "core/hash.h"
#include "core/strings.h"

namespace ankh::probe {

namespace {

constexpr const char* kFormatHint =
    "an annotation line reads ID<TAB>GO:…<TAB>GO:…, e.g. B0RED7<TAB>GO:0046933 "
    "(metastudent-data's dataset_201401/MFO/goasp_annot.dat)";

bool is_go_id(std::string_view field) {
  if (field.size() <= 3 || !core::starts_with(field, "GO:")) return false;
  return std::all_of(field.begin() + 3, field.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The tab-separated fields of one line, as views into it.
std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> fields;
  for (;;) {
    const std::size_t tab = line.find('\t');
    fields.push_back(line.substr(0, tab));
    if (tab == std::string_view::npos) return fields;
    line.remove_prefix(tab + 1);
  }
}

// Adds the terms of one line to `out`; InputError naming source:number for a malformed line.
void add_line(std::string_view line, const std::string& source, int64_t number, const GoGraph& graph, Annotations& out) {
  const auto fail = [&](const std::string& what) {
    throw core::InputError(what, source + ":" + std::to_string(number), kFormatHint);
  };
  const std::vector<std::string_view> fields = fields_of(line);
  if (fields[0].empty()) fail("the line has no protein id");
  if (fields.size() < 2) fail("protein " + std::string(fields[0]) + " has no GO terms");
  TermSet& terms = out.terms[std::string(fields[0])];
  for (std::size_t i = 1; i < fields.size(); ++i) {
    if (!is_go_id(fields[i])) fail("field " + std::to_string(i + 1) + " ('" + std::string(fields[i]) + "') is not a GO id");
    const TermId term = graph.find(fields[i]);
    if (term != kNoTerm) {
      terms.push_back(term);
    } else if (out.unknown_terms++ == 0) {
      out.example_unknown = std::string(fields[i]);
    }
  }
}

void sort_unique(TermSet& terms) {
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
}

}  // namespace

Annotations parse_annotations(std::string_view text, const std::string& source, const GoGraph& graph) {
  Annotations out;
  int64_t number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    while (!line.empty() && line.back() == '\t') line.remove_suffix(1);  // a trailing tab adds no term
    if (core::trim(line).empty()) continue;
    add_line(line, source, number, graph, out);
  }
  for (auto& entry : out.terms) sort_unique(entry.second);
  return out;
}

Annotations read_annotations(const std::filesystem::path& path, const GoGraph& graph) {
  return parse_annotations(core::read_file(path), path.string(), graph);
}

void propagate_all(Annotations& annotations, const GoGraph& graph) {
  for (auto& entry : annotations.terms) entry.second = graph.propagate(entry.second);
}

std::string protein_id_of_header(std::string_view header) {
  if (!header.empty() && header.front() == '>') header.remove_prefix(1);
  const std::size_t word_end = header.find_first_of(" \t\r\n");
  header = header.substr(0, word_end);
  return std::string(header.substr(0, header.find('|')));
}

bool in_query_set(std::string_view id, double query_fraction, uint64_t seed) {
  const double u = static_cast<double>(core::hash_bytes(id, seed) >> 11) * 0x1.0p-53;
  return u < query_fraction;
}

}  // namespace ankh::probe
