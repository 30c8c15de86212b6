// The loader: this rank's micro-batches of each global step, built from the global order
// (global_order.h), cropped, run through the objective and padded, ahead of time on a
// background thread. Its whole state is (epoch, next sample), saved in checkpoints as JSON.
//
//   auto dataset = data::Dataset::open(config.data.dataset);
//   data::Loader loader(dataset, options, saved_state);
//   for (...) { auto micro_batches = loader.next_step(); ...; state.json <- loader.state(); }
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "data/batch.h"
#include "data/data_config.h"
#include "data/dataset.h"
#include "data/global_order.h"
#include "data/loader_options.h"
#include "data/objectives/mixture.h"

namespace ankh::data {

// One global step as seen by one rank: what `ankh batches` prints and tests inspect.
struct PlannedStep {
  int64_t epoch = 0;
  int64_t step = 0;         // within the epoch
  int64_t global_step = 0;  // since the start of training (epoch · steps_per_epoch + step)
  int64_t global_size = 0;  // samples in the whole global batch
  int64_t global_target_tokens = 0;
  std::vector<SampleRef> samples;  // this rank's part, in order
  std::vector<Example> examples;   // the objective's output for each of `samples`
  std::vector<Batch> batches;      // `examples` as micro-batches of at most b samples
};

// The synchronous core of the loader (no thread): tools and benchmarks use it directly.
class StepBuilder {
 public:
  // Checks the options (ConfigError/UsageError) and the split (InputError when empty or smaller
  // than one global batch).
  StepBuilder(std::shared_ptr<const Dataset> dataset, const LoaderOptions& options);

  int64_t steps_per_epoch() const { return order_.steps_per_epoch(); }
  // Valid: steps per evaluation; Train: -1 (endless).
  int64_t total_steps() const;
  const LoaderOptions& options() const { return options_; }
  const TaskMixture& objective() const { return *objective_; }
  GlobalOrder& order() { return order_; }

  // The step that starts at `at`. with_batches=false skips the tensors (inspection tools).
  PlannedStep build(const LoaderState& at, bool with_batches = true);
  // The state after the step that starts at `at`.
  LoaderState after(const LoaderState& at) const;
  // The state at a global step (epoch · steps_per_epoch + step).
  LoaderState at_global_step(int64_t global_step) const;
  // Checks and normalises a restored state (warns on a different dataset, rounds a position that
  // is not on a global-batch boundary down to one).
  LoaderState restore(LoaderState saved) const;

 private:
  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  std::unique_ptr<const TaskMixture> objective_;
  GlobalOrder order_;
};

class Loader {
 public:
  Loader(std::shared_ptr<const Dataset> dataset, LoaderOptions options, LoaderState start = {});
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // This rank's micro-batches of the next global step: G / (world · b) of them for Train, each
  // with global_target_tokens = target tokens of the whole global batch (the loss divisor). For
  // Valid the last global batch may be smaller than G, so a rank may get fewer (or no)
  // micro-batches there. Rethrows an error of the background thread. Throws once a Valid loader
  // has returned total_steps() steps.
  std::vector<Batch> next_step();
  // The state after the last step next_step() returned (what a checkpoint saves).
  LoaderState state() const { return state_; }
  int64_t steps_per_epoch() const { return builder_.steps_per_epoch(); }
  int64_t total_steps() const { return builder_.total_steps(); }

 private:
  struct Item {
    std::vector<Batch> batches;
    LoaderState after;
    std::exception_ptr error;
  };
  void produce(LoaderState at);
  bool finished(const LoaderState& at) const;

  StepBuilder builder_;
  LoaderState state_;
  int64_t depth_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Item> queue_;
  bool stop_ = false;
};

}  // namespace ankh::data
