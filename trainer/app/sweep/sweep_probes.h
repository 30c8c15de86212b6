// Downstream probes of a sweep (`probes:` in the sweep file, docs/probes.md): each completed
// run's final checkpoint is probed once per task (`ankh probe RUN TASK`, results in
// RUN/probes/<task>/), and the baselines a run has to beat are probed once per sweep into
// SWEEP/baselines/<task>/<name>/: amino-acid composition, dipeptides and an untrained model of the
// sweep's base config. The summary gets a column per probe metric and a row per baseline.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ankh::sweep {

struct ProbeTaskRef {
  std::filesystem::path file;
  std::string name;  // the task's name: RUN/probes/<name>, the summary's column prefix
};
std::vector<ProbeTaskRef> probe_tasks(const std::vector<std::filesystem::path>& files);

// "task.metric" -> value: fmax and coverage of a go_transfer task, accuracy and macro_f1 of a
// classification, for one method of a results.json.
using ProbeMetrics = std::map<std::string, double>;

// Probes `run_dir` (complete at `step`) with every task whose results are missing or of another
// step, running `ankh` as a child with its output appended to `log`. Returns what failed.
std::vector<std::string> probe_run(const std::filesystem::path& ankh, const std::filesystem::path& run_dir,
                                   int64_t step, const std::vector<ProbeTaskRef>& tasks,
                                   const std::filesystem::path& log);

// The baselines of every task, each probed once (skipped when its results exist).
std::vector<std::string> probe_baselines(const std::filesystem::path& ankh, const std::filesystem::path& sweep_dir,
                                         const std::filesystem::path& base_config,
                                         const std::vector<ProbeTaskRef>& tasks, const std::filesystem::path& log);

// The source's metrics of each task as RUN/probes/<task>/results.json holds them (none when absent).
ProbeMetrics read_run_probes(const std::filesystem::path& run_dir, const std::vector<ProbeTaskRef>& tasks);

// One row per baseline: composition, dipeptide, random-init (SWEEP/baselines), and the task's own
// baselines (naive, blast; majority) as the runs' results hold them.
std::map<std::string, ProbeMetrics> read_baseline_probes(const std::filesystem::path& sweep_dir,
                                                         const std::vector<std::filesystem::path>& run_dirs,
                                                         const std::vector<ProbeTaskRef>& tasks);

}  // namespace ankh::sweep
