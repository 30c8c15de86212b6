#include "trainer/metrics/run_summary.h"

#include <cmath>

#include "core/error.h"
#include "trainer/metrics/metrics_log.h"

namespace ankh::metrics {

namespace fs = std::filesystem;

namespace {

std::optional<double> finite(double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; }

struct Fold {
  RunSummary& s;
  void reached(int64_t step, int64_t tokens) {
    if (step < s.steps) return;
    s.steps = step;
    s.tokens = tokens;
  }
  void operator()(const StartRecord& r) {
    s.parameters = r.parameters;
    s.world_size = r.world_size;
    if (r.step >= s.steps) s.steps = r.step;
  }
  void operator()(const TrainRecord& r) {
    reached(r.step, r.tokens);
    if (const auto loss = finite(r.loss)) s.final_train_loss = loss;
  }
  void operator()(const ValidRecord& r) {
    reached(r.step, r.tokens);
    const auto loss = finite(r.loss);
    if (!loss) return;
    s.final_valid_loss = loss;
    if (!s.best_valid_loss || *loss < *s.best_valid_loss) s.best_valid_loss = loss;
    s.valid_accuracy = finite(r.accuracy);
  }
  void operator()(const CheckpointRecord& r) {
    if (r.step >= s.steps) s.steps = r.step;
  }
  void operator()(const ProbeRecord&) {}  // probes are summarised from RUN/probes/ (sweeps)
  void operator()(const EndRecord& r) {
    reached(r.step, r.tokens);
    if (r.train_seconds > 0) s.tokens_per_s = static_cast<double>(r.tokens) / r.train_seconds;
  }
};

}  // namespace

RunSummary summarize(const std::vector<Record>& records) {
  RunSummary s;
  s.found = true;
  for (const auto& r : records) std::visit(Fold{s}, r);
  // A run resumed after an interruption appends: only an end record that is the last line says
  // how the run stands; one followed by more records was superseded.
  if (!records.empty())
    if (const auto* end = std::get_if<EndRecord>(&records.back())) s.end = *end;
  return s;
}

RunSummary read_run_summary(const fs::path& metrics_file) {
  std::error_code ec;
  if (!fs::exists(metrics_file, ec)) return {};
  try {
    return summarize(read_records(metrics_file));
  } catch (const core::Error& e) {
    RunSummary s;
    s.error = e.describe();
    return s;
  }
}

bool is_complete(const RunSummary& run, int64_t max_steps) {
  return run.end && run.end->reason == EndReason::MaxSteps && run.end->step == max_steps;
}

}  // namespace ankh::metrics
