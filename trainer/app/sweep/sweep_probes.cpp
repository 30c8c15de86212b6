#include "trainer/app/sweep/sweep_probes.h"

#include <fstream>

#include <fmt/format.h>

#include "core/error.h"
#include "trainer/app/sweep/sweep_launch.h"
#include "trainer/probe/prepared_probe.h"
#include "trainer/probe/probe_run.h"
#include "trainer/probe/probe_task.h"

namespace ankh::sweep {

namespace fs = std::filesystem;

namespace {

// The baselines probed once per sweep, and the SOURCE of each (random-init takes the base config).
const std::vector<std::string> kBaselines = {"composition", "dipeptide", "random-init"};

std::string baseline_source(const std::string& name, const fs::path& base_config) {
  if (name == "random-init") return "baseline:random-init:" + fs::absolute(base_config).string();
  return "baseline:" + name;
}

// The summary's metrics of one method of a results.json ({} when the method is not there).
ProbeMetrics metrics_of(const nlohmann::json& results, const std::string& method, const std::string& task) {
  ProbeMetrics out;
  for (const auto& [key, value] : probe::headline_metrics(results, method)) out[task + "." + key] = value;
  return out;
}

std::optional<nlohmann::json> results_in(const fs::path& dir) {
  const fs::path file = dir / "results.json";
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  try {
    return probe::read_probe_results(file);
  } catch (const core::Error&) {
    return std::nullopt;  // unreadable: probed again
  }
}

// Runs `ankh probe SOURCE TASK --output DIR`; the failure text, or "" when it succeeded.
std::string run_probe_child(const fs::path& ankh, const std::string& source, const ProbeTaskRef& task,
                            const fs::path& output, const fs::path& log) {
  const std::vector<std::string> argv = {ankh.string(), "probe", source, task.file.string(), "--output",
                                         output.string(), "--no-progress"};
  std::ofstream(log, std::ios::app) << "\n=== " << shell_join(argv) << "\n";
  const int status = run_logged(argv, {}, log);
  if (status == 0) return "";
  return fmt::format("probe {} of {}: exit status {}: {}", task.name, source, status, last_error_line(log));
}

}  // namespace

std::vector<ProbeTaskRef> probe_tasks(const std::vector<fs::path>& files) {
  std::vector<ProbeTaskRef> tasks;
  for (const auto& f : files) tasks.push_back({f, probe::load_probe_task(f).name});
  return tasks;
}

std::vector<std::string> probe_run(const fs::path& ankh, const fs::path& run_dir, int64_t step,
                                   const std::vector<ProbeTaskRef>& tasks, const fs::path& log) {
  std::vector<std::string> failures;
  for (const auto& task : tasks) {
    const fs::path output = run_dir / "probes" / task.name;
    const auto existing = results_in(output);
    if (existing && existing->value("/probe/step"_json_pointer, int64_t{-2}) == step) continue;
    const std::string failure = run_probe_child(ankh, run_dir.string(), task, output, log);
    if (!failure.empty()) failures.push_back(failure);
  }
  return failures;
}

std::vector<std::string> probe_baselines(const fs::path& ankh, const fs::path& sweep_dir, const fs::path& base_config,
                                         const std::vector<ProbeTaskRef>& tasks, const fs::path& log) {
  std::vector<std::string> failures;
  for (const auto& task : tasks)
    for (const auto& name : kBaselines) {
      const fs::path output = sweep_dir / "baselines" / task.name / name;
      if (results_in(output)) continue;
      const std::string failure = run_probe_child(ankh, baseline_source(name, base_config), task, output, log);
      if (!failure.empty()) failures.push_back(failure);
    }
  return failures;
}

ProbeMetrics read_run_probes(const fs::path& run_dir, const std::vector<ProbeTaskRef>& tasks) {
  ProbeMetrics out;
  for (const auto& task : tasks)
    if (const auto results = results_in(run_dir / "probes" / task.name))
      for (const auto& [key, value] : metrics_of(*results, "source", task.name)) out[key] = value;
  return out;
}

std::map<std::string, ProbeMetrics> read_baseline_probes(const fs::path& sweep_dir, const std::vector<fs::path>& run_dirs,
                                                         const std::vector<ProbeTaskRef>& tasks) {
  std::map<std::string, ProbeMetrics> rows;
  for (const auto& task : tasks) {
    for (const auto& name : kBaselines)
      if (const auto results = results_in(sweep_dir / "baselines" / task.name / name))
        for (const auto& [key, value] : metrics_of(*results, "source", task.name)) rows[name][key] = value;
    // naive and BLAST (majority) do not depend on the model: the first run that has them.
    for (const auto& dir : run_dirs) {
      const auto results = results_in(dir / "probes" / task.name);
      if (!results) continue;
      for (const char* method : {"naive", "blast", "majority"})
        for (const auto& [key, value] : metrics_of(*results, method, task.name)) rows[method][key] = value;
      break;
    }
  }
  return rows;
}

}  // namespace ankh::sweep
