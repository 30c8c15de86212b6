#include "trainer/app/sweep/sweep_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
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

// Every "task.metric" of the runs and baselines, sorted.
std::vector<std::string> probe_columns(const std::vector<RunRow>& rows, const BaselineRows& baselines) {
  std::set<std::string> keys;
  for (const auto& r : rows)
    for (const auto& [key, value] : r.probes) keys.insert(key);
  for (const auto& [name, m] : baselines)
    for (const auto& [key, value] : m) keys.insert(key);
  return {keys.begin(), keys.end()};
}

std::string probe_value(const ProbeMetrics& m, const std::string& key, int digits) {
  const auto it = m.find(key);
  return it == m.end() ? "" : fmt::format("{:.{}f}", it->second, digits);
}

// The probe table of summary.md: the runs, then the baselines they have to beat.
void probe_table(std::ostringstream& os, const std::vector<RunRow>& rows, const BaselineRows& baselines,
                 const std::vector<std::string>& columns) {
  os << "\n## Probes\n\n| run |";
  for (const auto& c : columns) os << " " << c << " |";
  os << "\n|---|";
  for (std::size_t i = 0; i < columns.size(); ++i) os << "---:|";
  os << "\n";
  for (const auto& r : rows) {
    os << "| " << md_cell(r.name) << " |";
    for (const auto& c : columns) os << " " << probe_value(r.probes, c, 3) << " |";
    os << "\n";
  }
  for (const auto& [name, m] : baselines) {
    os << "| *baseline: " << md_cell(name) << "* |";
    for (const auto& c : columns) os << " " << probe_value(m, c, 3) << " |";
    os << "\n";
  }
  os << "\nProbes of each run's final checkpoint (docs/probes.md): fmax and coverage of GO transfer, "
        "accuracy and macro-F1 of classification; baselines: amino-acid composition, dipeptides, an "
        "untrained model of the base config, and each task's own (naive, BLAST; majority class).\n";
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

std::string summary_csv(const std::vector<RunRow>& rows, const BaselineRows& baselines) {
  const auto columns = probe_columns(rows, baselines);
  std::ostringstream os;
  os << "run,overrides,status,parameters,world_size,steps,max_steps,tokens,final_train_loss,final_valid_loss,"
        "best_valid_loss,valid_accuracy,tokens_per_s,wall_s,detail";
  for (const auto& c : columns) os << ',' << csv_field(c);
  os << '\n';
  for (const auto& r : rows) {
    const auto& m = r.metrics;
    os << csv_field(r.name) << ',' << csv_field(r.overrides) << ',' << status_name(r.status) << ','
       << (m.parameters ? std::to_string(*m.parameters) : "") << ',' << (m.world_size ? std::to_string(*m.world_size) : "")
       << ',' << m.steps << ',' << r.max_steps << ',' << m.tokens << ',' << fixed(m.final_train_loss, 6) << ','
       << fixed(m.final_valid_loss, 6) << ',' << fixed(m.best_valid_loss, 6) << ',' << fixed(m.valid_accuracy, 6) << ','
       << fixed(m.tokens_per_s, 1) << ',' << (r.wall_s > 0 ? fmt::format("{:.1f}", r.wall_s) : "") << ','
       << csv_field(r.detail);
    for (const auto& c : columns) os << ',' << probe_value(r.probes, c, 6);
    os << '\n';
  }
  for (const auto& [name, m] : baselines) {
    os << csv_field(name) << ",,baseline,,,,,,,,,,,,";
    for (const auto& c : columns) os << ',' << probe_value(m, c, 6);
    os << '\n';
  }
  return os.str();
}

std::string summary_markdown(const std::string& title, const std::string& command, const std::vector<RunRow>& rows,
                             const std::vector<std::string>& plots, const BaselineRows& baselines) {
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
  if (const auto columns = probe_columns(rows, baselines); !columns.empty()) probe_table(os, rows, baselines, columns);

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
