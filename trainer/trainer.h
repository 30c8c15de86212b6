// The data-parallel training loop behind `ankh train`.
//
// One step: this rank's micro-batches of the global batch (data::Loader) -> forward/backward per
// micro-batch, loss divided by the global batch's target-token count -> gradients summed over
// ranks in buckets overlapped with backward (parallel::GradSync) -> global-norm clip -> optimizer
// step (skipped when the norm is not finite) -> one small all-reduce of the step's statistics and
// flags (stop signal, checkpoint timing) -> metrics, validation, checkpoints.
#pragma once

#include <memory>

#include "trainer/parallel/mpi_env.h"
#include "trainer/metrics/records.h"
#include "trainer/run_config.h"
#include "trainer/stop_signal.h"

namespace ankh::trainer {

struct TrainResult {
  int64_t steps = 0;           // optimizer steps completed in total
  int64_t tokens_seen = 0;
  // Why the run stopped: train.max_steps reached, a stop signal (StopSignal), or train.exit_at_step.
  metrics::EndReason end = metrics::EndReason::MaxSteps;
};

class Trainer {
 public:
  // Sets everything up (device, communicator, dataset, model, optimizer, resume). Collective.
  Trainer(RunConfig config, const parallel::MpiSession& mpi);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Trains to train.max_steps or until `stop` is requested on any rank, saving checkpoints on the
  // way and at the end. Collective.
  TrainResult run(const StopSignal& stop);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace ankh::trainer
