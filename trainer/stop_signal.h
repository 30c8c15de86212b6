// Stopping a run cleanly: SIGTERM (Slurm's warning before the time limit, preemption), SIGINT
// (Ctrl-C) or SIGUSR1 (what the launchers send through `mpirun`, which passes SIGUSR1 on to every
// rank but ends the ranks itself on SIGTERM). The handler only records the signal; the trainer
// polls it once per step and the ranks agree through the step's statistics all-reduce to stop
// after the same step, so that the final checkpoint is consistent.
//
// A second SIGTERM or SIGINT ends the process at once (the user or the scheduler insists). SIGUSR1
// never does: a launcher may relay the same request more than once.
#pragma once

namespace ankh::trainer {

class StopSignal {
 public:
  // Installs the handlers; the previous ones are restored by the destructor. `ankh train` installs
  // them before anything else, so that a signal during start-up (MPI, dataset, resume) is kept
  // rather than killing the process with the default action.
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  // True once SIGTERM, SIGINT or SIGUSR1 arrived on this process.
  bool requested() const;
  // "SIGTERM", "SIGINT" or "SIGUSR1": the first stop signal received; "" before any.
  const char* name() const;
};

}  // namespace ankh::trainer
