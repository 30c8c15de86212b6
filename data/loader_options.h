// What a loader is asked for (LoaderOptions) and where it stands (LoaderState), without the
// loader itself: run configs and checkpoints name these, and need not see batches or threads.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"
#include "data/data_config.h"
#include "data/split.h"

namespace ankh::data {

// Where the loader stands in the global order: the next global step starts at position
// `next_sample` of epoch `epoch`'s order. `sequences` (the split size it was saved with) only
// serves to warn when a run resumes on a different dataset.
struct LoaderState {
  int64_t epoch = 0;
  int64_t next_sample = 0;
  int64_t sequences = 0;

  bool operator==(const LoaderState& o) const { return epoch == o.epoch && next_sample == o.next_sample; }
  bool operator!=(const LoaderState& o) const { return !(*this == o); }
};
// {"epoch": 3, "next_sample": 40960, "sequences": 459044}; from_json throws InputError on a
// malformed object.
void to_json(nlohmann::json& j, const LoaderState& s);
void from_json(const nlohmann::json& j, LoaderState& s);

struct LoaderOptions {
  DataConfig data;
  ObjectiveConfig objective;
  uint64_t seed = 0;
  int64_t global_batch = 1;  // G: sequences per optimizer step, all ranks together
  int64_t micro_batch = 1;   // b: sequences per forward/backward on one rank
  int rank = 0;
  int world_size = 1;
  Split split = Split::Train;  // Train: endless, a new order every epoch; Valid: see max_steps
  int64_t max_steps = 0;       // Valid: global batches per evaluation (0: the whole split)
  bool background = true;      // false: next_step() builds on the calling thread
};

// The batch geometry every step keeps: train.global_batch = ranks x train.micro_batch x
// accumulation steps. Adds an issue on train.global_batch (with `origin`, where it was set) when
// it does not split; the one check the loader, the trainer and sweeps all make.
void check_batch_geometry(int64_t global_batch, int64_t micro_batch, int64_t world_size, core::IssueList& issues,
                          const std::string& origin = "");

}  // namespace ankh::data
