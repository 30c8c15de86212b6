// `ankh train CONFIG [overrides]`: pre-train, as a single process or under `mpirun -np N`.
#include <spdlog/spdlog.h>

#include "core/dir_lock.h"
#include "core/files.h"
#include "core/logging.h"
#include "trainer/app/cli/command.h"
#include "trainer/app/cli/config_args.h"
#include "trainer/parallel/mpi_env.h"
#include "trainer/stop_signal.h"
#include "trainer/trainer.h"

namespace ankh::cli {

namespace {

// Run ownership (docs/architecture.md): rank 0 takes RUN/ankh.lock before anything is written
// into RUN/ and holds it until the job exits. The other ranks wait for its verdict before they
// open their logs there: when another job holds the run, rank 0 throws and main's MPI_Abort ends
// them while they wait, so nothing of this job reaches the other job's files.
std::optional<core::DirLock> own_run_dir(const std::filesystem::path& run_dir, const parallel::MpiSession& mpi) {
  std::optional<core::DirLock> lock;
  if (mpi.rank() == 0) lock.emplace(core::DirLock::acquire(run_dir, "ankh train", "run.dir"));
  if (mpi.distributed()) {
    int owned = 1;
    parallel::check_mpi(MPI_Bcast(&owned, 1, MPI_INT, 0, mpi.world()), "MPI_Bcast (run lock)");
  }
  return lock;
}

}  // namespace

Action setup_train(CLI::App& sub) {
  auto args = std::make_shared<ConfigArgs>();
  add_config_args(sub, *args);
  sub.footer(
      "Every rank runs the same command: mpirun -np N ankh train CONFIG [section.key=value ...]\n"
      "The run directory (run.dir) gets config.yaml, metrics.jsonl, logs/rank-N.log and checkpoints/.\n"
      "A run resumes from its newest committed checkpoint (checkpoint.resume=auto); SIGTERM, SIGINT or\n"
      "SIGUSR1 stop it after the current step with a checkpoint and exit status 0 (a second SIGTERM or\n"
      "SIGINT ends it at once). Under mpirun, send SIGUSR1 to mpirun: it passes it on to every rank.");
  return [args]() {
    const trainer::StopSignal stop;  // first: a signal during start-up must not kill the rank
    const trainer::RunConfig config = args->load();
    parallel::MpiSession mpi;
    core::set_log_rank(mpi.rank());
    const std::filesystem::path run_dir = config.run.dir;
    const auto run_lock = own_run_dir(run_dir, mpi);  // held until this function returns
    core::add_log_file(run_dir, mpi.rank());
    if (mpi.rank() == 0) core::write_file_atomic(run_dir / "config.yaml", trainer::to_yaml(config));
    trainer::Trainer trainer(config, mpi);
    trainer.run(stop);  // done, or stopped by a signal or train.exit_at_step: a checkpoint was committed either way
    return 0;
  };
}

}  // namespace ankh::cli
