// What a sweep reports per run: read from each RUN/metrics.jsonl, written as summary.csv (for
// tools) and summary.md (for people), both replaced atomically at the end of every invocation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ankh::sweep {

// What metrics.jsonl says about a run (all optional: a run that failed early has none of it).
struct RunMetrics {
  bool found = false;                 // metrics.jsonl exists and was read
  std::string error;                  // why it could not be read, when it could not
  std::optional<int64_t> parameters;  // from the last "start" record
  std::optional<int64_t> world_size;
  int64_t steps = 0, tokens = 0;      // furthest step reached
  std::optional<double> final_valid_loss, best_valid_loss, valid_accuracy;  // accuracy: final validation
  std::optional<double> final_train_loss;
  std::optional<double> tokens_per_s;  // tokens / train_seconds of the end record (eval time excluded)
  std::optional<std::string> end_reason;  // "max_steps", "signal", ... of the last "end" record
  std::optional<int64_t> end_step;
};

// Reads RUN/metrics.jsonl; a missing file gives found=false, an unreadable one sets `error`.
RunMetrics read_run_metrics(const std::filesystem::path& metrics_file);

// A run is complete when its last "end" record says max_steps at step == max_steps.
bool is_complete(const RunMetrics& m, int64_t max_steps);

enum class RunStatus { NotRun, Skipped, Completed, Failed, Interrupted, Incomplete };
// "not run", "skipped", "completed", "failed", "interrupted", "incomplete"
const char* status_name(RunStatus s);

struct RunRow {
  std::string name;
  std::string overrides;  // "key=value key=value"
  std::filesystem::path dir;
  RunStatus status = RunStatus::NotRun;
  std::string detail;     // failed: exit status and the run's last error line; skipped: why
  double wall_s = 0;      // this invocation's time on the run (0 when it did not run)
  int64_t max_steps = 0;
  RunMetrics metrics;
};

// "3 completed, 1 failed"
std::string status_tally(const std::vector<RunRow>& rows);

std::string summary_csv(const std::vector<RunRow>& rows);
// `title`: the sweep file; `command`: how the sweep was invoked; `plots`: PNG paths (may be empty).
std::string summary_markdown(const std::string& title, const std::string& command, const std::vector<RunRow>& rows,
                             const std::vector<std::string>& plots);

}  // namespace ankh::sweep
