// The objective the loader runs: the tasks of `objective.mixture` (or the single objective as a
// mixture of one), each sample's task drawn by weight from its own stream of the sample seed.
//
// The draw is a pure function of the sample seed, hence of (run seed, epoch, sample index), like
// every other random choice of the objectives: the same sample gets the same task on any number
// of ranks and after a resume. The task's own choices (masks, rates, split points) use the sample
// seed as before, so a single objective gives exactly the examples it gave before mixtures
// existed. A task with a task token gets it as the first encoder token.
#pragma once

#include <memory>
#include <vector>

#include "data/data_config.h"
#include "data/objectives/objective.h"

namespace ankh::data {

class TaskMixture final : public Objective {
 public:
  // The config has been validated (validate_objective).
  explicit TaskMixture(const ObjectiveConfig& config);

  // The single task's name, or "mixture".
  const char* name() const override;
  int64_t target_length(int64_t residues, uint64_t sample_seed) const override;
  int64_t input_length(int64_t residues, uint64_t sample_seed) const override;
  int64_t max_sentinels(int64_t residues) const override;
  // Builds the example of the sample's task and sets Example::task.
  void apply(TokenView residues, uint64_t sample_seed, Example& out) const override;

  std::size_t size() const { return tasks_.size(); }
  // The index (in mixture order) of the task of the sample with this seed.
  std::size_t task_of(uint64_t sample_seed) const;
  const Objective& task(std::size_t i) const { return *tasks_[i].objective; }
  ObjectiveKind kind(std::size_t i) const { return tasks_[i].kind; }

 private:
  struct Task {
    std::unique_ptr<const Objective> objective;
    ObjectiveKind kind;
    uint64_t threshold;  // the draw picks the first task whose threshold exceeds it
    int token;           // the task token's id, or -1
  };
  std::vector<Task> tasks_;
};

}  // namespace ankh::data
