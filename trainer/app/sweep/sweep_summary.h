// What a sweep reports per run: read from each RUN/metrics.jsonl, written as summary.csv (for
// tools) and summary.md (for people), both replaced atomically at the end of every invocation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "trainer/app/sweep/sweep_probes.h"
#include "trainer/metrics/run_summary.h"

namespace ankh::sweep {

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
  metrics::RunSummary metrics;
  ProbeMetrics probes;    // "task.metric" of the run's probes (sweep_probes.h)
};

// The rows a run must beat: baseline name -> its probe metrics.
using BaselineRows = std::map<std::string, ProbeMetrics>;

// "3 completed, 1 failed"
std::string status_tally(const std::vector<RunRow>& rows);

// Probe metrics are extra columns (one per "task.metric" any row has); baselines extra rows.
std::string summary_csv(const std::vector<RunRow>& rows, const BaselineRows& baselines = {});
// `title`: the sweep file; `command`: how the sweep was invoked; `plots`: PNG paths (may be empty).
std::string summary_markdown(const std::string& title, const std::string& command, const std::vector<RunRow>& rows,
                             const std::vector<std::string>& plots, const BaselineRows& baselines = {});

}  // namespace ankh::sweep
