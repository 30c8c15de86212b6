// What a run's metrics.jsonl says about it as a whole: how far it got, how it ended, its final and
// best losses. `ankh status` (and through it launch/slurm-run.sh) and sweep summaries read runs
// this way; a run is complete by one rule, is_complete().
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "trainer/metrics/records.h"

namespace ankh::metrics {

struct RunSummary {
  bool found = false;                 // metrics.jsonl exists and was read
  std::string error;                  // why it could not be read, when it could not
  std::optional<int64_t> parameters;  // from the last start record
  std::optional<int64_t> world_size;
  int64_t steps = 0, tokens = 0;      // furthest step reached, and the tokens seen by then
  std::optional<double> final_valid_loss, best_valid_loss, valid_accuracy;  // accuracy: final validation
  std::optional<double> final_train_loss;
  std::optional<double> tokens_per_s;  // tokens / train_seconds of the end record (eval time excluded)
  // The last record, when it is an end record: how the last launch ended. A run that went on
  // after an end (resumed) has none until it ends again.
  std::optional<EndRecord> end;
};

// The summary of these records (in file order).
RunSummary summarize(const std::vector<Record>& records);
// Reads RUN/metrics.jsonl; a missing file gives found=false, an unreadable one sets `error`.
RunSummary read_run_summary(const std::filesystem::path& metrics_file);

// Complete: the last launch ended at train.max_steps == `max_steps`. (A run whose max_steps was
// raised since is not complete: it continues.)
bool is_complete(const RunSummary& run, int64_t max_steps);

}  // namespace ankh::metrics
