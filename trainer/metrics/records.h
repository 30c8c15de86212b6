// The records of RUN/metrics.jsonl, one struct per event, each with its JSON form (schema in
// docs/formats.md, "Metrics"). The trainer writes them; `ankh export` (the model card), sweep
// summaries and `ankh status` (what launch/slurm-run.sh asks before and after a run) read them.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/choices.h"

namespace ankh::metrics {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// "start": a launch begins (after resuming, when it resumes).
struct StartRecord {
  int64_t step = 0;            // the step it starts after (0, or the resumed step)
  int64_t world_size = 1;
  std::string device;          // "cpu", "cuda:0"
  int64_t parameters = 0;
  double peak_flops = 0;       // per device: the figure MFU is against
  std::string peak_source;     // where that figure comes from (a device table, train.peak_flops, a measurement)
  double matmul_flops = kNaN;  // per device: the measured matmul ceiling, logged beside the peak
  double unigram_entropy = kNaN;
};

// One task of an objective mixture (objective.mixture), inside a train or valid record: the same
// losses and accuracy over that task's samples only. `kind` is the objective's name (two tasks
// may share one: their place in the list, which is mixture order, tells them apart).
struct TaskRecord {
  std::string kind;
  double loss = kNaN, residue_loss = kNaN, accuracy = kNaN;
  int64_t target_tokens = 0, residue_tokens = 0;  // what those are over: weights to average tasks with
};

// "train": the steps since the previous train record (train.log_every).
struct TrainRecord {
  int64_t step = 0, epoch = 0, tokens = 0;  // tokens: encoder tokens seen so far
  double loss = kNaN, residue_loss = kNaN, accuracy = kNaN;
  double lr = kNaN, grad_norm = kNaN;
  int64_t skipped_steps = 0;
  double tokens_per_s = kNaN, step_time_s = kNaN, data_wait_s = kNaN, comm_wait_s = kNaN;
  double mfu = kNaN;           // model FLOP utilisation in (0, 1]
  double memory_bytes = kNaN;  // peak device memory (CUDA) or resident set size (CPU)
  std::vector<TaskRecord> tasks;  // mixtures only, in mixture order; empty (no "tasks" key) otherwise
};

// "valid": a validation on the valid split.
struct ValidRecord {
  int64_t step = 0, tokens = 0;
  double loss = kNaN;          // over every target token
  double residue_loss = kNaN;  // over amino-acid targets only
  double accuracy = kNaN;      // argmax accuracy on those
  double perplexity = kNaN;
  int64_t target_tokens = 0, residue_tokens = 0;
  double unigram_entropy = kNaN;  // the residue loss of a model that knows only the frequencies
  std::vector<TaskRecord> tasks;  // mixtures only, as in TrainRecord
};

// "checkpoint": a checkpoint committed.
struct CheckpointRecord {
  int64_t step = 0;
  std::string path;
  int64_t bytes = 0;
  double stall_s = kNaN, write_s = kNaN, commit_s = kNaN;
};

// Why a launch ended.
enum class EndReason { MaxSteps, Signal, ExitAtStep };
const core::Choices<EndReason>& end_reasons();  // max_steps | signal | exit_at_step

// "end": a launch ended normally (the last line of a finished or stopped launch).
struct EndRecord {
  int64_t step = 0, tokens = 0;
  EndReason reason = EndReason::MaxSteps;
  double best_valid_loss = kNaN;  // NaN before any validation
  double train_seconds = 0;
};

// "probe": a downstream probe of the live model (train.probes, docs/probes.md). The metrics of
// its kind are set, the others NaN: fmax and coverage (go_transfer), accuracy and macro_f1
// (classification).
struct ProbeRecord {
  int64_t step = 0, tokens = 0;
  std::string task;
  double fmax = kNaN, coverage = kNaN, accuracy = kNaN, macro_f1 = kNaN;
  double embed_s = kNaN, fit_s = kNaN;  // embedding (all ranks) and the probe itself (rank 0)
};

using Record = std::variant<StartRecord, TrainRecord, ValidRecord, CheckpointRecord, EndRecord, ProbeRecord>;

// The record as one JSON object, with its "event" name first.
nlohmann::json to_json(const Record& record);
// The record a JSON object holds; std::monostate-like nullopt for an event this version does not
// know (a newer ankh's), so that readers skip it. InputError naming `where` and the field when a
// known field has the wrong type.
std::optional<Record> from_json(const nlohmann::json& object, const std::string& where);

// The step of any record.
int64_t step_of(const Record& record);

}  // namespace ankh::metrics
