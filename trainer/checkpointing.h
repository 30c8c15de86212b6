// The trainer's side of checkpoints (the directory protocol itself is checkpoints/): what a
// checkpoint holds — model, optimizer, progress, loader state, resolved config — and when saves
// start and commit in a multi-rank job.
//
// Only rank 0 writes (data-parallel ranks hold identical parameters). A save snapshots the
// tensors to CPU (the only part that stalls training) and writes the files on a background
// thread while training goes on; it is committed at the first step boundary where every rank
// knows rank 0's writer has finished (a flag in the per-step all-reduce), i.e. after all ranks
// are done with the checkpoint's step. A crash before that leaves the previous checkpoint.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "checkpoints/checkpoint_dir.h"
#include "data/loader_options.h"
#include "trainer/parallel/communicator.h"
#include "trainer/fault_injection.h"
#include "trainer/metrics/metrics_log.h"
#include "trainer/model/model.h"
#include "trainer/optim/optimizer.h"
#include "trainer/run_config.h"

namespace ankh::trainer {

inline constexpr int kStateFormatVersion = 1;

// Everything about a run's progress that is not a tensor: state.json.
struct TrainProgress {
  int64_t step = 0;                 // optimizer steps taken (skipped ones included)
  int64_t tokens_seen = 0;          // encoder tokens (no padding) of every global batch so far
  int64_t skipped_steps = 0;        // steps skipped for a non-finite loss or gradient norm
  int64_t consecutive_skipped = 0;
  double train_seconds = 0;         // wall time spent training, over all resumes
  data::LoaderState loader;         // where the next global batch starts
  double best_valid_loss = -1;      // -1: not validated yet
  int world_size = 1;               // of the run that saved it (information only)
};
nlohmann::json to_json(const TrainProgress& p, const RunConfig& config);
TrainProgress progress_from_json(const nlohmann::json& state, const std::string& where);

class Checkpointer {
 public:
  Checkpointer(const RunConfig& config, int rank, parallel::Communicator& comm, const FaultInjection& faults);
  ~Checkpointer();

  // `checkpoint.resume`: restores model and optimizer from the newest committed checkpoint (or the
  // one named) and returns its progress; nullopt when starting fresh. Every rank reads the files.
  std::optional<TrainProgress> restore(model::T5Model& model, optim::Optimizer& optimizer) const;

  // Whether step `step` calls for a save by steps; time-based saves are decided by rank 0 and
  // agreed through the per-step all-reduce (`time_due`).
  bool due_by_steps(int64_t step) const;
  bool time_due() const;  // rank 0's clock

  // Starts saving the state after `progress.step` (rank 0 snapshots and writes; others note it).
  // A save still pending is committed first. Collective only through wait_and_commit.
  void start_save(model::T5Model& model, const optim::Optimizer& optimizer, const TrainProgress& progress);
  // Rank 0: the pending save's files are all written (the flag it contributes to the all-reduce).
  bool writer_finished() const;
  bool pending() const { return pending_step_ >= 0; }
  // Commits the pending save; every rank calls it at the same step (after agreeing that the
  // writer has finished, or at the end with wait=true). Rank 0 writes the marker and renames.
  void commit(bool wait);

  // Where each commit is recorded (rank 0): path, bytes, how long training stalled.
  void attach_metrics(metrics::MetricsLog* metrics) { metrics_ = metrics; }

 private:
  const RunConfig& config_;
  int rank_;
  parallel::Communicator& comm_;
  const FaultInjection& faults_;
  std::filesystem::path run_dir_;
  std::unique_ptr<checkpoints::CheckpointWriter> writer_;  // rank 0, while a save is pending
  int64_t pending_step_ = -1;
  double last_save_time_;
  metrics::MetricsLog* metrics_ = nullptr;
};

}  // namespace ankh::trainer
