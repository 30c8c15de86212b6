// `ankh status CONFIG [overrides]`: is the run complete? Read from RUN/metrics.jsonl. Launchers
// (launch/slurm-run.sh) ask it before starting a run, and after a run exits 0, to tell a finished
// run from one stopped by a signal that must be requeued.
#include <iostream>

#include <fmt/format.h>

#include "core/error.h"
#include "trainer/app/cli/command.h"
#include "trainer/app/cli/config_args.h"
#include "trainer/metrics/run_summary.h"

namespace ankh::cli {

namespace {
// Exit statuses: 0 complete; 1 and 2 are errors (I/O, usage); 3 not complete yet.
constexpr int kNotComplete = 3;
}  // namespace

Action setup_status(CLI::App& sub) {
  auto args = std::make_shared<ConfigArgs>();
  add_config_args(sub, *args);
  sub.footer(
      "Prints one line about the run in run.dir and exits 0 when it is complete (metrics.jsonl ends with\n"
      "the trainer's end record at train.max_steps), 3 when it is not (not started, stopped by a signal\n"
      "or train.exit_at_step, killed, or still running), 1 or 2 on errors.");
  return [args]() {
    const trainer::RunConfig config = args->load();
    const auto metrics_file = std::filesystem::path(config.run.dir) / "metrics.jsonl";
    const auto m = metrics::read_run_summary(metrics_file);
    const int64_t max_steps = config.train.max_steps;
    if (!m.error.empty()) throw core::InputError(m.error);  // names the file and line already
    if (metrics::is_complete(m, max_steps)) {
      std::cout << fmt::format("{}: complete (step {} of {})\n", config.run.dir, m.end->step, max_steps);
      return 0;
    }
    if (!m.found) {
      std::cout << fmt::format("{}: not started (no {})\n", config.run.dir, metrics_file.string());
    } else if (m.end) {
      std::cout << fmt::format("{}: stopped at step {} of {} ({}); `ankh train` resumes it from its checkpoint\n",
                               config.run.dir, m.end->step, max_steps, metrics::end_reasons().name(m.end->reason));
    } else {
      std::cout << fmt::format("{}: at step {} of {} with no end record (still running, or killed)\n", config.run.dir,
                               m.steps, max_steps);
    }
    return kNotComplete;
  };
}

}  // namespace ankh::cli
