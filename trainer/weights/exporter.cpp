#include "trainer/weights/exporter.h"

#include <spdlog/spdlog.h>

#include "checkpoints/hf_export.h"
#include "core/error.h"
#include "data/vocab.h"
#include "trainer/metrics/metrics_log.h"
#include "trainer/weights/model_io.h"

namespace ankh::weights {

namespace fs = std::filesystem;

namespace {

// RUN for RUN/checkpoints/step-N; empty when the checkpoint does not sit in a run.
fs::path run_dir_of(const fs::path& checkpoint) {
  const fs::path dir = fs::absolute(checkpoint).lexically_normal();
  const fs::path parent = (dir.has_filename() ? dir : dir.parent_path()).parent_path();
  return parent.filename() == "checkpoints" ? parent.parent_path() : fs::path();
}

// Copies the numeric fields of a metrics record as PREFIX_key (bookkeeping fields left out).
void add_record(nlohmann::json& out, const nlohmann::json& record, const std::string& prefix) {
  static const char* skip[] = {"event", "epoch", "tokens", "skipped_steps", "memory_bytes", "data_wait_s", "comm_wait_s"};
  for (auto it = record.begin(); it != record.end(); ++it) {
    if (!it.value().is_number()) continue;
    bool skipped = false;
    for (const char* s : skip) skipped = skipped || it.key() == s;
    if (!skipped) out[prefix + "_" + it.key()] = it.value();
  }
}

// fp16 tops out at 65504: a weight beyond that would load as inf in transformers.
void check_fits_fp16(const checkpoints::NamedTensors& tensors, const std::string& where) {
  std::vector<std::string> too_large;
  for (const auto& [name, t] : tensors) {
    if (!t.is_floating_point()) continue;
    const double peak = t.abs().max().item<double>();
    if (peak > 65504.0) too_large.push_back(name + " (|x| up to " + std::to_string(peak) + ")");
  }
  if (too_large.empty()) return;
  std::string what = "weights too large for fp16:";
  for (const auto& n : too_large) what += "\n    " + n;
  throw core::CheckpointError(what, where, "export with --dtype bf16 or fp32");
}

}  // namespace

nlohmann::json final_metrics(const fs::path& metrics_file, int64_t step, const nlohmann::json& state) {
  nlohmann::json out = nlohmann::json::object();
  if (step >= 0) out["step"] = step;
  if (state.is_object()) {
    for (const char* key : {"tokens_seen", "train_seconds", "skipped_steps"})
      if (state.contains(key) && state[key].is_number()) out[key] = state[key];
    // The trainer keeps -1 until the first validation.
    if (state.contains("best_valid_loss") && state["best_valid_loss"].is_number() && state["best_valid_loss"].get<double>() >= 0)
      out["best_valid_loss"] = state["best_valid_loss"];
  }
  std::error_code ec;
  if (metrics_file.empty() || !fs::exists(metrics_file, ec)) return out;
  std::vector<metrics::Record> records;
  try {
    records = metrics::read_records(metrics_file);
  } catch (const core::Error& e) {
    spdlog::warn("the model card lists no training metrics: {}", e.describe());
    return out;
  }
  nlohmann::json last_train, last_valid;
  for (const auto& record : records) {
    if (step >= 0 && metrics::step_of(record) > step) continue;  // the run went on after the checkpoint
    // A resumed run repeats steps: the later record (of the resumed run) wins.
    if (std::holds_alternative<metrics::TrainRecord>(record)) last_train = metrics::to_json(record);
    else if (std::holds_alternative<metrics::ValidRecord>(record)) last_valid = metrics::to_json(record);
  }
  if (last_train.is_object()) add_record(out, last_train, "train");
  if (last_valid.is_object()) add_record(out, last_valid, "valid");
  return out;
}

ExportResult export_checkpoint(const ExportOptions& o) {
  // Cheap refusals before reading gigabytes of weights.
  if (o.output.empty()) throw core::UsageError("no output directory", "--output", "give --output DIR");
  if (fs::exists(o.output) && !o.overwrite)
    throw core::CheckpointError("output directory already exists", o.output.string(), "choose another --output, or pass --overwrite");
  const LoadedWeights w = load_weights(o.checkpoint);
  if (w.hugging_face)
    throw core::CheckpointError("this is a Hugging Face directory already, not a checkpoint", o.checkpoint.string(),
                                "export a checkpoint (RUN/checkpoints/step-N) or a run directory");
  if (o.dtype == torch::kFloat16) check_fits_fp16(w.tensors, w.source);

  const fs::path run_dir = run_dir_of(w.source);
  checkpoints::HfModelCard card;
  card.name = !o.name.empty() ? o.name : !run_dir.empty() ? run_dir.filename().string() : std::string("ankh model");
  card.source = w.source;
  card.step = w.step;
  card.training_config_yaml = w.config_yaml;
  card.metrics = final_metrics(run_dir.empty() ? fs::path() : run_dir / "metrics.jsonl", w.step, w.state);

  checkpoints::HfExportOptions options;
  options.dtype = o.dtype;
  options.encoder_only = o.encoder_only;
  options.overwrite = o.overwrite;
  // Task tokens (the checkpoint's objective) follow Ankh's 144 in the tokenizer and are listed in config.json.
  checkpoints::TokenizerSpec tokenizer{data::vocabulary(w.task_tokens)};
  tokenizer.task_tokens = w.task_tokens;
  checkpoints::write_hf_directory(o.output, hf_t5_config(w.config, w.task_tokens), w.tensors, tokenizer, card, options);

  ExportResult r;
  r.checkpoint = w.source;
  r.step = w.step;
  for (const auto& [name, t] : w.tensors)
    r.tensors += (!o.encoder_only || name.rfind("shared.", 0) == 0 || name.rfind("encoder.", 0) == 0) ? 1 : 0;
  r.metrics = card.metrics;
  return r;
}

}  // namespace ankh::weights
