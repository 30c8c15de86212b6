#include "trainer/app/sweep/sweep_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "core/strings.h"
#include "trainer/metrics/metrics_log.h"

namespace ankh::sweep {

namespace fs = std::filesystem;

namespace {

std::optional<double> number(const nlohmann::json& record, const char* key) {
  if (!record.contains(key) || !record[key].is_number()) return std::nullopt;
  return record[key].get<double>();
}

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

RunMetrics read_run_metrics(const fs::path& metrics_file) {
  RunMetrics m;
  std::error_code ec;
  if (!fs::exists(metrics_file, ec)) return m;
  std::vector<nlohmann::json> records;
  try {
    records = metrics::read_metrics(metrics_file);
  } catch (const core::Error& e) {
    m.error = e.describe();
    return m;
  }
  m.found = true;
  for (const auto& r : records) {
    if (!r.is_object() || !r.contains("event") || !r["event"].is_string()) continue;
    const std::string event = r["event"].get<std::string>();
    const auto step = number(r, "step");
    const auto tokens = number(r, "tokens");
    if (step && *step >= static_cast<double>(m.steps)) {
      m.steps = static_cast<int64_t>(*step);
      if (tokens) m.tokens = static_cast<int64_t>(*tokens);
    }
    if (event == "start") {
      if (auto p = number(r, "parameters")) m.parameters = static_cast<int64_t>(*p);
      if (auto w = number(r, "world_size")) m.world_size = static_cast<int64_t>(*w);
    } else if (event == "train") {
      if (auto l = number(r, "loss")) m.final_train_loss = l;
    } else if (event == "valid") {
      const auto loss = number(r, "loss");
      if (!loss) continue;
      m.final_valid_loss = loss;
      if (!m.best_valid_loss || *loss < *m.best_valid_loss) m.best_valid_loss = loss;
      m.valid_accuracy = number(r, "accuracy");
    } else if (event == "end") {
      if (r.contains("reason") && r["reason"].is_string()) m.end_reason = r["reason"].get<std::string>();
      if (step) m.end_step = static_cast<int64_t>(*step);
      const auto seconds = number(r, "train_seconds");
      if (tokens && seconds && *seconds > 0) m.tokens_per_s = *tokens / *seconds;
    }
  }
  // A run resumed after an interruption appends: the last "end" decides, earlier ones were
  // superseded; an end record followed by training means the run went on after it.
  if (!records.empty() && records.back().value("event", "") != "end") {
    m.end_reason.reset();
    m.end_step.reset();
  }
  return m;
}

bool is_complete(const RunMetrics& m, int64_t max_steps) {
  return m.end_reason && *m.end_reason == "max_steps" && m.end_step && *m.end_step == max_steps;
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
