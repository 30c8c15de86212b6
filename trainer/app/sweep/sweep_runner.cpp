#include "trainer/app/sweep/sweep_runner.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <algorithm>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "core/dir_lock.h"
#include "core/error.h"
#include "core/files.h"
#include "core/strings.h"
#include "core/timer.h"
#include "trainer/app/sweep/sweep_launch.h"
#include "trainer/app/sweep/sweep_plan.h"
#include "trainer/app/sweep/sweep_slurm.h"
#include "trainer/app/sweep/sweep_summary.h"

#ifndef ANKH_SOURCE_DIR
#define ANKH_SOURCE_DIR "."
#endif

namespace ankh::sweep {

namespace fs = std::filesystem;

namespace {

fs::path self_executable() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw core::IoError("cannot find the ankh executable (/proc/self/exe): " + ec.message(), "ankh sweep");
  return p;
}

// "section:\n  key: value" (to_yaml's layout) -> {"section.key": "value"}.
std::map<std::string, std::string> flat_yaml(const std::string& text) {
  std::map<std::string, std::string> out;
  std::string section;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (line[0] != ' ')
      section = line.substr(0, colon);
    else
      out[section + "." + core::trim(line.substr(0, colon))] = core::trim(line.substr(colon + 1));
  }
  return out;
}

// Keys whose values differ between a run's previous config and its planned one. train.max_steps
// may grow (continue a finished sweep further); everything else means a different experiment.
std::vector<std::string> changed_keys(const fs::path& previous, const std::string& planned) {
  std::error_code ec;
  if (!fs::exists(previous, ec)) return {};
  const auto a = flat_yaml(core::read_file(previous));
  const auto b = flat_yaml(planned);
  std::vector<std::string> keys;
  for (const auto& [k, v] : b) {
    if (k == "train.max_steps") continue;
    auto it = a.find(k);
    if (it == a.end() || it->second != v) keys.push_back(k);
  }
  return keys;
}

std::string timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

fs::path find_plot_script(const fs::path& given) {
  if (!given.empty()) return given;
  for (const fs::path& p : {fs::path("scripts/plot_runs.py"), fs::path(ANKH_SOURCE_DIR) / "scripts/plot_runs.py"}) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p;
  }
  return {};
}

// Runs scripts/plot_runs.py; a missing script or matplotlib is a warning, never a failed sweep.
std::vector<std::string> plot(const fs::path& script, const fs::path& output, const std::string& title,
                              const std::vector<RunRow>& rows) {
  if (script.empty()) {
    spdlog::warn("sweep: scripts/plot_runs.py not found: no plots (give --plot-script PATH)");
    return {};
  }
  std::error_code ec;
  const std::string python = fs::exists("/usr/bin/python3", ec) ? "/usr/bin/python3" : "python3";
  std::vector<std::string> argv = {python, script.string(), "--output", output.string(), "--title", title};
  for (const auto& r : rows)
    if (r.metrics.found) argv.push_back(r.dir.string());
  if (argv.size() == 6) return {};
  const fs::path log = output / "plot.log";
  core::write_file_atomic(log, "");  // this invocation's output only
  const int status = run_logged(argv, {}, log);
  const std::string text = core::read_file(log);
  if (status != 0) {
    spdlog::warn("sweep: plotting failed (exit status {}): {} (see {})", status, core::trim(last_error_line(log)),
                 log.string());
    return {};
  }
  std::vector<std::string> pngs;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (core::starts_with(line, "wrote ")) pngs.push_back(core::trim(line.substr(6)));
  return pngs;
}

// `env` assignments in front of a command, as a shell would take them (for logs and --dry-run).
std::vector<std::string> with_env(const std::vector<std::string>& env, std::vector<std::string> argv) {
  argv.insert(argv.begin(), env.begin(), env.end());
  return argv;
}

struct Context {
  const SweepOptions& options;
  fs::path output;
  std::vector<PlannedRun> runs;
  std::vector<RunRow> rows;
  std::vector<std::string> plots;
  fs::path base_config;
  std::vector<ProbeTaskRef> probes;
  BaselineRows baselines;
  std::vector<std::string> probe_failures;
};

void write_summary(const Context& c) {
  core::write_file_atomic(c.output / "summary.csv", summary_csv(c.rows, c.baselines));
  core::write_file_atomic(c.output / "summary.md", summary_markdown(c.options.sweep_file.string(), c.options.command_line,
                                                                    c.rows, c.plots, c.baselines));
}

// The probes of every complete run that lacks them, then the baselines; their metrics for the summary.
void run_probes(Context& c, const fs::path& ankh) {
  if (c.probes.empty()) return;
  std::vector<fs::path> dirs;
  for (auto& row : c.rows) {
    dirs.push_back(row.dir);
    if (interrupted() || !metrics::is_complete(row.metrics, row.max_steps)) continue;
    std::cout << "probing " << row.name << " ..." << std::endl;
    for (auto& failure : probe_run(ankh, row.dir, row.metrics.steps, c.probes, row.dir / "sweep.log"))
      c.probe_failures.push_back(std::move(failure));
    row.probes = read_run_probes(row.dir, c.probes);
  }
  if (!interrupted()) {
    std::cout << "probing the baselines ..." << std::endl;
    for (auto& failure : probe_baselines(ankh, c.output, c.base_config, c.probes, c.output / "probes.log"))
      c.probe_failures.push_back(std::move(failure));
  }
  c.baselines = read_baseline_probes(c.output, dirs, c.probes);
}

int emit_slurm(Context& c, const fs::path& ankh) {
  std::vector<fs::path> todo;
  for (std::size_t i = 0; i < c.runs.size(); ++i) {
    const auto& run = c.runs[i];
    if (!metrics::is_complete(c.rows[i].metrics, run.config.train.max_steps)) todo.push_back(fs::absolute(run.dir));
  }
  if (todo.empty()) {
    std::cout << "every run of the sweep is complete: nothing to submit\n";
    return 0;
  }
  SlurmOptions so;
  so.job_name = "ankh-" + c.options.sweep_file.stem().string();
  so.ankh = ankh;
  so.run_script = find_slurm_run_script();
  so.output = fs::absolute(c.output);
  so.sweep_file = c.options.sweep_file;
  so.nodes = c.options.nodes;
  so.ranks_per_node = c.options.ranks_per_node();
  so.gpus_per_node = c.options.gpus_per_node;
  so.time = c.options.time;
  so.mpirun_args = core::split(c.options.mpirun_args, ' ');
  so.mpirun_args.erase(std::remove(so.mpirun_args.begin(), so.mpirun_args.end(), ""), so.mpirun_args.end());
  const std::string script = slurm_array_script(todo, so);
  if (c.options.dry_run) {
    std::cout << script;
    return 0;
  }
  for (const auto& run : c.runs) {
    fs::create_directories(run.dir);
    core::write_file_atomic(run.dir / "run.yaml", trainer::to_yaml(run.config));
  }
  core::write_file_atomic(c.options.emit_slurm, script);
  fs::permissions(c.options.emit_slurm, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
  std::cout << fmt::format("wrote {} ({} array task(s), {} run(s) already complete); submit with: sbatch {}\n",
                           c.options.emit_slurm.string(), todo.size(), c.runs.size() - todo.size(),
                           c.options.emit_slurm.string());
  return 0;
}

// --summary-only: the state of each run as its directory tells it (a Slurm array, another machine).
int summarise_only(Context& c) {
  for (auto& row : c.rows) {
    const auto& m = row.metrics;
    const fs::path log = row.dir / "sweep.log";
    std::error_code ec;
    if (metrics::is_complete(m, row.max_steps)) {
      row.status = RunStatus::Completed;
    } else if (!m.error.empty()) {
      row.status = RunStatus::Failed;
      row.detail = m.error;
    } else if (!m.found && fs::exists(log, ec)) {  // launched by a sweep, never got to training
      row.status = RunStatus::Failed;
      row.detail = last_error_line(log) + "; log: " + log.string();
    } else if (!m.found) {
      row.status = RunStatus::NotRun;
    } else if (m.end && m.end->reason == metrics::EndReason::Signal) {
      row.status = RunStatus::Interrupted;
    } else {
      row.status = RunStatus::Incomplete;
    }
  }
  fs::create_directories(c.output);
  std::vector<fs::path> dirs;
  for (const auto& row : c.rows) dirs.push_back(row.dir);
  c.baselines = read_baseline_probes(c.output, dirs, c.probes);
  if (c.options.plot)
    c.plots = plot(find_plot_script(c.options.plot_script), c.output, c.options.sweep_file.stem().string(), c.rows);
  write_summary(c);
  std::cout << fmt::format("{}; wrote {}\n", status_tally(c.rows), (c.output / "summary.md").string());
  return 0;
}

// Runs (or skips) run `i` and records its status in c.rows[i].
void run_one(Context& c, std::size_t i, const LaunchOptions& launch, const std::vector<std::string>& env) {
  const auto& run = c.runs[i];
  RunRow& row = c.rows[i];
  const std::string planned = trainer::to_yaml(run.config);
  const auto changed = changed_keys(run.dir / "run.yaml", planned);
  const std::string prefix = fmt::format("[{}/{}] {}", i + 1, c.runs.size(), run.name);
  if (metrics::is_complete(row.metrics, row.max_steps)) {
    row.status = RunStatus::Skipped;
    row.detail = "complete before this invocation";
    if (!changed.empty())
      row.detail = "complete, but with a different config (" + core::join(changed, ", ") +
                   "); delete " + run.dir.string() + " to run it again";
    std::cout << prefix << ": skipped (" << row.detail << ")\n";
    return;
  }
  fs::create_directories(run.dir);
  core::write_file_atomic(run.dir / "run.yaml", planned);
  const auto argv = launch_command(launch, run.dir / "run.yaml");
  const fs::path log = run.dir / "sweep.log";
  {
    std::string header = fmt::format("\n=== ankh sweep {} at {}: {}\n", c.options.sweep_file.string(), timestamp(),
                                     row.overrides);
    if (!changed.empty()) header += "=== config changed since the last attempt: " + core::join(changed, ", ") + "\n";
    header += "=== " + shell_join(with_env(env, argv)) + "\n";
    std::ofstream(log, std::ios::app) << header;
  }
  std::cout << prefix << " (" << row.overrides << ") ..." << std::flush;
  core::Stopwatch watch;
  const int status = run_logged(argv, env, log);
  row.wall_s = watch.seconds();
  row.metrics = metrics::read_run_summary(run.dir / "metrics.jsonl");
  if (status != 0 && !interrupted()) {
    row.status = RunStatus::Failed;
    const std::string why = last_error_line(log);
    row.detail = fmt::format("exit status {}{}; log: {}", status, why.empty() ? "" : ": " + why, log.string());
  } else if (metrics::is_complete(row.metrics, row.max_steps)) {
    row.status = RunStatus::Completed;
  } else if (interrupted() || (row.metrics.end && row.metrics.end->reason == metrics::EndReason::Signal)) {
    row.status = RunStatus::Interrupted;
    row.detail = "stopped by a signal; the next invocation resumes it from its checkpoint";
  } else {
    row.status = RunStatus::Incomplete;
    row.detail = fmt::format("exited at step {} of {}; the next invocation resumes it", row.metrics.steps,
                             row.max_steps);
  }
  const auto& m = row.metrics;
  std::string result = fmt::format(" {} in {:.1f} s", status_name(row.status), row.wall_s);
  if (m.found) result += fmt::format(": {} steps, {} tokens", m.steps, core::format_count(m.tokens));
  if (m.final_valid_loss) result += fmt::format(", valid loss {:.4f}", *m.final_valid_loss);
  if (row.status == RunStatus::Failed) result += " (" + row.detail + ")";
  std::cout << result << std::endl;
}

// Plans every run (validated) and reads what each run directory already holds.
Context plan(const SweepOptions& options, bool slurm) {
  const SweepFile file = read_sweep_file(options.sweep_file);
  Context c{options, options.output.empty() ? default_output(options.sweep_file) : options.output, {}, {}, {}, file.base,
            probe_tasks(file.probes), {}, {}};
  PlanOptions plan;
  plan.output = c.output;
  plan.world_size = slurm ? options.nodes * options.ranks_per_node() : options.np;
  plan.cli_overrides = options.overrides;
  c.runs = plan_sweep(file, plan);
  for (const auto& run : c.runs) {
    RunRow row;
    row.name = run.name;
    row.overrides = describe_overrides(run.varying);
    row.dir = run.dir;
    row.max_steps = run.config.train.max_steps;
    row.metrics = metrics::read_run_summary(run.dir / "metrics.jsonl");
    row.probes = read_run_probes(run.dir, c.probes);
    c.rows.push_back(std::move(row));
  }
  return c;
}

// How each run is started: `ankh train` directly, or under mpirun.
LaunchOptions launch_options(const SweepOptions& options, const fs::path& ankh) {
  LaunchOptions launch;
  launch.np = options.np;
  launch.ankh = ankh;
  launch.use_mpirun = options.np > 1 || !options.mpirun.empty();
  launch.mpirun = options.mpirun.empty() ? "mpirun" : options.mpirun;
  for (const auto& a : core::split(options.mpirun_args, ' '))
    if (!a.empty()) launch.mpirun_args.push_back(a);
  if (launch.use_mpirun && !options.summary_only) {
    check_mpirun(launch.mpirun);
    launch.open_mpi = detect_open_mpi(launch.mpirun);
  }
  return launch;
}

// --dry-run: each run, what would happen to it, and its command.
int print_plan(const Context& c, const LaunchOptions& launch, const std::vector<std::string>& env) {
  const std::size_t n = c.runs.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto& run = c.runs[i];
    const auto& m = c.rows[i].metrics;
    const std::string state = metrics::is_complete(m, run.config.train.max_steps) ? "complete: would skip"
                              : m.found ? fmt::format("partial (step {}): would resume", m.steps)
                                        : "new";
    std::cout << fmt::format("[{}/{}] {}  ({})  {}\n      {}\n", i + 1, n, run.name, c.rows[i].overrides, state,
                             shell_join(with_env(env, launch_command(launch, run.dir / "run.yaml"))));
  }
  return 0;
}

// Runs every run in turn (until a signal), then summarises and plots; the exit status.
int run_all(Context& c, const LaunchOptions& launch, const std::vector<std::string>& env) {
  const SweepOptions& options = c.options;
  fs::create_directories(c.output);
  core::write_file_atomic(c.output / "sweep.yaml", core::read_file(options.sweep_file));
  install_sweep_signal_handlers();
  core::Stopwatch total;
  for (std::size_t i = 0; i < c.runs.size() && !interrupted(); ++i) {
    run_one(c, i, launch, env);
    write_summary(c);  // progress is visible (and kept) after every run
  }
  run_probes(c, launch.ankh);
  if (options.plot) c.plots = plot(find_plot_script(options.plot_script), c.output, options.sweep_file.stem().string(), c.rows);
  write_summary(c);
  std::vector<std::string> written = {(c.output / "summary.csv").string(), "summary.md"};
  for (const auto& p : c.plots) written.push_back(fs::path(p).filename().string());
  std::cout << fmt::format("sweep finished in {}: {}; wrote {}\n", core::format_duration(total.seconds()),
                           status_tally(c.rows), core::join(written, ", "));

  if (const int sig = interrupted()) {
    spdlog::warn("sweep interrupted by signal {}: run it again to resume where it stopped", sig);
    return 128 + sig;
  }
  std::vector<std::string> failed = c.probe_failures;
  for (const auto& r : c.rows)
    if (r.status == RunStatus::Failed) failed.push_back(r.name);
  if (!failed.empty())
    throw core::TrainingError(fmt::format("{} run(s) or probe(s) of {} run(s) failed: {}", failed.size(), c.runs.size(),
                                          core::join(failed, "; ")),
                              (c.output / "summary.md").string(),
                              "see each run's sweep.log; fix and run the sweep again (completed runs are skipped)");
  return 0;
}

}  // namespace

int run_sweep(const SweepOptions& options) {
  if (options.np < 1) throw core::UsageError("--np must be at least 1", "ankh sweep --np");
  const bool slurm = !options.emit_slurm.empty();
  if (slurm && options.ranks_per_node() < 1)
    throw core::UsageError("--gpus-per-node 0 (CPU nodes) needs --ranks-per-node N", "ankh sweep --emit-slurm");
  Context c = plan(options, slurm);
  // One sweep at a time writes into OUTPUT (docs/architecture.md, "Run ownership"); each run is
  // owned by its own `ankh train`. Taken after planning, before anything is written there.
  std::optional<core::DirLock> lock;
  if (!options.dry_run) lock.emplace(core::DirLock::acquire(c.output, "ankh sweep", "--output"));
  const fs::path ankh = self_executable();
  if (slurm) return emit_slurm(c, ankh);

  const LaunchOptions launch = launch_options(options, ankh);
  const auto env = launch_environment(launch);
  std::cout << fmt::format("sweep {}: {} run(s) in {}, {} rank(s) each{}\n", options.sweep_file.string(), c.runs.size(),
                           c.output.string(), options.np, launch.use_mpirun ? " via " + launch.mpirun : "");
  if (options.summary_only) return summarise_only(c);
  if (options.dry_run) return print_plan(c, launch, env);
  return run_all(c, launch, env);
}

}  // namespace ankh::sweep
