#include "trainer/app/sweep/sweep_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "core/strings.h"

namespace ankh::sweep {

namespace fs = std::filesystem;

namespace {

std::string fixed(const std::optional<double>& v, int digits) {
  return v ? fmt::format("{:.{}f}", *v, digits) : "";
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Markdown table cells must not contain a bare '|'.
std::string md_cell(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string status_cell(const RunRow& r) {
  std::string s = status_name(r.status);
  if (r.status == RunStatus::Interrupted || r.status == RunStatus::Incomplete)
    s += fmt::format(" at step {}/{}", r.metrics.steps, r.max_steps);
  return s;
}

}  // namespace

const char* status_name(RunStatus s) {
  switch (s) {
    case RunStatus::NotRun: return "not run";
    case RunStatus::Skipped: return "skipped";
    case RunStatus::Completed: return "completed";
    case RunStatus::Failed: return "failed";
    case RunStatus::Interrupted: return "interrupted";
    case RunStatus::Incomplete: return "incomplete";
  }
  return "?";
}

std::string status_tally(const std::vector<RunRow>& rows) {
  constexpr int kStatuses = static_cast<int>(RunStatus::Incomplete) + 1;
  std::size_t counts[kStatuses] = {};
  for (const auto& r : rows) ++counts[static_cast<int>(r.status)];
  std::vector<std::string> tally;
  for (int s = 0; s < kStatuses; ++s)
    if (counts[s]) tally.push_back(fmt::format("{} {}", counts[s], status_name(static_cast<RunStatus>(s))));
  return core::join(tally, ", ");
}

std::string summary_csv(const std::vector<RunRow>& rows) {
  std::ostringstream os;
  os << "run,overrides,status,parameters,world_size,steps,max_steps,tokens,final_train_loss,final_valid_loss,"
        "best_valid_loss,valid_accuracy,tokens_per_s,wall_s,detail\n";
  for (const auto& r : rows) {
    const auto& m = r.metrics;
    os << csv_field(r.name) << ',' << csv_field(r.overrides) << ',' << status_name(r.status) << ','
       << (m.parameters ? std::to_string(*m.parameters) : "") << ',' << (m.world_size ? std::to_string(*m.world_size) : "")
       << ',' << m.steps << ',' << r.max_steps << ',' << m.tokens << ',' << fixed(m.final_train_loss, 6) << ','
       << fixed(m.final_valid_loss, 6) << ',' << fixed(m.best_valid_loss, 6) << ',' << fixed(m.valid_accuracy, 6) << ','
       << fixed(m.tokens_per_s, 1) << ',' << (r.wall_s > 0 ? fmt::format("{:.1f}", r.wall_s) : "") << ','
       << csv_field(r.detail) << '\n';
  }
  return os.str();
}

std::string summary_markdown(const std::string& title, const std::string& command, const std::vector<RunRow>& rows,
                             const std::vector<std::string>& plots) {
  std::ostringstream os;
  os << "# Sweep " << title << "\n\n";
  if (!command.empty()) os << "`" << command << "`\n\n";
  os << rows.size() << " runs: " << status_tally(rows) << ".\n\n";

  os << "| run | overrides | params | steps | tokens | final valid loss | best valid loss | residue acc | tokens/s | "
        "status |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
  const RunRow* best = nullptr;
  for (const auto& r : rows) {
    const auto& m = r.metrics;
    if (m.best_valid_loss && (!best || *m.best_valid_loss < *best->metrics.best_valid_loss)) best = &r;
    os << "| " << md_cell(r.name) << " | " << md_cell(r.overrides) << " | "
       << (m.parameters ? core::format_count(*m.parameters) : "") << " | " << m.steps << " | "
       << core::format_count(m.tokens) << " | " << fixed(m.final_valid_loss, 4) << " | "
       << fixed(m.best_valid_loss, 4) << " | " << fixed(m.valid_accuracy, 4) << " | "
       << (m.tokens_per_s ? fmt::format("{:.0f}", *m.tokens_per_s) : "") << " | " << status_cell(r) << " |\n";
  }
  if (best) os << "\nLowest validation loss: **" << best->name << "** (" << fixed(best->metrics.best_valid_loss, 4) << ").\n";

  bool any_detail = false;
  for (const auto& r : rows) {
    if (r.detail.empty()) continue;
    if (!any_detail) os << "\n## Notes\n\n";
    any_detail = true;
    os << "- `" << r.name << "` (" << status_name(r.status) << "): " << r.detail << "\n";
  }
  if (!plots.empty()) {
    os << "\n## Plots\n\n";
    for (const auto& p : plots) os << "![" << fs::path(p).stem().string() << "](" << fs::path(p).filename().string() << ")\n";
  }
  os << "\nColumns: validation loss over all target tokens of the last / best validation; residue acc = "
        "argmax accuracy on masked amino acids at the last validation; tokens/s = tokens seen / training "
        "seconds (validation and checkpoint time excluded). Run directories and logs (sweep.log, "
        "logs/rank-N.log) are beside this file.\n";
  return os.str();
}

}  // namespace ankh::sweep
