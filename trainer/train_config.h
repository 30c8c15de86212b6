// The training loop (`train:` section) and the run itself (`run:` section).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config_fields.h"
#include "core/error.h"

namespace ankh::trainer {

struct RunSettings {
  std::string dir = "runs/default";  // checkpoints, logs and metrics go here
  int64_t seed = 1234;

  void visit(core::FieldVisitor& v);
  void validate(core::IssueList& issues) const;
};

struct TrainConfig {
  int64_t global_batch = 1024;  // sequences per optimizer step, over all ranks
  int64_t micro_batch = 16;     // sequences per forward/backward on one rank
  int64_t max_steps = 100000;
  int64_t eval_every = 1000;    // 0: no periodic validation
  int64_t eval_batches = 50;    // global batches of the valid split per evaluation
  int64_t log_every = 10;
  int64_t max_skipped_steps = 10;  // consecutive non-finite steps before giving up
  double peak_flops = 0;           // per device, for model FLOP utilisation (0: device table or measured)
  int64_t exit_at_step = 0;        // stop after this step with a checkpoint, as on SIGTERM (0: never)
  std::string probes;              // probe task files, comma-separated (docs/probes.md); "": none
  int64_t probe_every = 0;         // probe the live model every N steps (0: only after the last step)

  std::vector<std::string> probe_files() const;  // `probes` split at commas

  void visit(core::FieldVisitor& v);
  void validate(core::IssueList& issues) const;
};

}  // namespace ankh::trainer
