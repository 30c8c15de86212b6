// SIGTERM / SIGINT (Slurm preemption, Ctrl-C) during training: the handler only sets a flag;
// the trainer polls it once per step and the ranks agree through the step's statistics
// all-reduce to stop after the same step, so that a final checkpoint is consistent. A second Ctrl-C kills the process at once.
#pragma once

namespace ankh::trainer {

class StopSignal {
 public:
  // Installs the handlers; the previous ones are restored by the destructor.
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  // True once SIGTERM or SIGINT arrived on this process.
  bool requested() const;
};

}  // namespace ankh::trainer
