#include "trainer/probe/blast_baseline.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.h"
#include "core/files.h"
#include "core/strings.h"
#include "core/subprocess.h"

namespace ankh::probe {

namespace {

namespace fs = std::filesystem;

constexpr const char* kOutputFormat = "6 qseqid sseqid pident evalue bitscore";

// The index in "Q12" (prefix 'Q'), when it is one below `count`.
std::optional<int64_t> index_of(const std::string& id, char prefix, int64_t count) {
  if (id.size() < 2 || id[0] != prefix) return std::nullopt;
  const auto i = core::parse_int(std::string_view(id).substr(1));
  if (!i || *i < 0 || *i >= count) return std::nullopt;
  return i;
}

// One row of the table: the query's index and the hit it names.
std::pair<int64_t, BlastHit> parse_row(std::string_view line, const std::string& where, int64_t queries, int64_t lookups) {
  const std::vector<std::string> f = core::split(line, '\t');
  const auto fail = [&](const std::string& what) {
    throw core::InputError(what, where, std::string("rows of blastp -outfmt \"") + kOutputFormat + "\" on L<i>/Q<i> ids");
  };
  if (f.size() != 5) fail("expected 5 tab-separated fields, found " + std::to_string(f.size()));
  const auto query = index_of(f[0], 'Q', queries);
  const auto subject = index_of(f[1], 'L', lookups);
  const auto pident = core::parse_double(f[2]);
  const auto bitscore = core::parse_double(f[4]);
  if (!query) fail("'" + f[0] + "' is not one of the " + std::to_string(queries) + " queries");
  if (!subject) fail("'" + f[1] + "' is not one of the " + std::to_string(lookups) + " lookup proteins");
  if (!pident || *pident < 0 || *pident > 100) fail("identity '" + f[2] + "' is not a percentage");
  if (!bitscore) fail("bit score '" + f[4] + "' is not a number");
  return {*query, BlastHit{*subject, *pident / 100, *bitscore}};
}

void run_blastp(const BlastOptions& options) {
  core::ProgramOptions program;
  program.working_dir = options.work_dir;
  program.stdout_path = options.work_dir / "hits.tsv";
  program.missing_hint = kBlastHint;
  core::run_program({"blastp", "-query", "queries.fasta", "-db", "lookup", "-outfmt", kOutputFormat, "-max_target_seqs",
                     std::to_string(options.max_target_seqs), "-evalue", core::format_double(options.evalue),
                     "-num_threads", std::to_string(std::max(1, options.threads))},
                    program);
}

}  // namespace

std::vector<BlastHit> read_best_hits(const fs::path& table, int64_t queries, int64_t lookups) {
  std::vector<BlastHit> best(static_cast<std::size_t>(queries));
  const std::string contents = core::read_file(table);
  std::string_view text = contents;
  for (int64_t number = 1; !text.empty(); ++number) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const auto [query, hit] = parse_row(line, table.string() + ":" + std::to_string(number), queries, lookups);
    BlastHit& current = best[static_cast<std::size_t>(query)];
    if (current.subject < 0 || hit.bitscore > current.bitscore) current = hit;
  }
  return best;
}

std::vector<BlastHit> blast_best_hits(const std::vector<Protein>& lookup, const std::vector<Protein>& queries,
                                      const BlastOptions& options) {
  const auto n_queries = static_cast<int64_t>(queries.size());
  const auto n_lookup = static_cast<int64_t>(lookup.size());
  if (options.work_dir.empty())
    throw core::InputError("no work directory for BLAST's files", "BLAST baseline", "set BlastOptions::work_dir");
  std::error_code ec;
  fs::create_directories(options.work_dir, ec);
  if (ec) throw core::IoError("cannot create the BLAST work directory: " + ec.message(), options.work_dir.string());
  if (write_fasta(options.work_dir / "lookup.fasta", lookup, "L") == 0 ||
      write_fasta(options.work_dir / "queries.fasta", queries, "Q") == 0)
    return std::vector<BlastHit>(queries.size());  // nothing to search, or nothing to search in
  make_blast_db(options.work_dir / "lookup.fasta", options.work_dir / "lookup");
  run_blastp(options);
  return read_best_hits(options.work_dir / "hits.tsv", n_queries, n_lookup);
}

std::vector<Prediction> transfer_best_hits(const std::vector<BlastHit>& hits, const std::vector<TermSet>& lookup_terms) {
  std::vector<Prediction> out(hits.size());
  for (std::size_t q = 0; q < hits.size(); ++q) {
    const BlastHit& hit = hits[q];
    if (hit.subject < 0) continue;
    if (hit.subject >= static_cast<int64_t>(lookup_terms.size()))
      throw core::InputError("hit " + std::to_string(hit.subject) + " is not a lookup protein (there are " +
                                 std::to_string(lookup_terms.size()) + ")",
                             "BLAST baseline");
    for (TermId t : lookup_terms[static_cast<std::size_t>(hit.subject)])
      out[q].push_back({t, static_cast<float>(hit.identity)});
    keep_best_scores(out[q]);
  }
  return out;
}

}  // namespace ankh::probe
