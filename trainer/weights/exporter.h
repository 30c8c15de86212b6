// `ankh export`: a committed checkpoint -> a Hugging Face T5 directory (docs/architecture.md, "Export"):
// config.json, model.safetensors under HF names, tokenizer files for Ankh's vocabulary (and the
// task tokens of the checkpoint's objective, ids 144, ...; config.json lists them as
// "task_tokens"), and a model card with the resolved training config, the step, tokens seen and the final metrics.
// The directory is written by checkpoints::write_hf_directory (into DIR.tmp, renamed when complete).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/types.h>

namespace ankh::weights {

struct ExportOptions {
  std::filesystem::path checkpoint;           // a checkpoint directory, or a run directory (its newest committed one)
  std::filesystem::path output;               // the Hugging Face directory to create
  torch::ScalarType dtype = torch::kFloat32;  // kFloat32, kBFloat16 or kFloat16
  bool encoder_only = false;                  // only shared.* and encoder.* (T5EncoderModel)
  bool overwrite = false;                     // replace an existing output (once the new one is complete)
  std::string name;                           // model card title ("" : the run directory's name)
};

struct ExportResult {
  std::filesystem::path checkpoint;  // the checkpoint actually exported
  int64_t step = -1;
  int64_t tensors = 0;
  nlohmann::json metrics;  // what the model card lists
};

// CheckpointError for an uncommitted or damaged checkpoint, a Hugging Face directory as input,
// an existing output without `overwrite`, or weights that overflow fp16; nothing is written then.
ExportResult export_checkpoint(const ExportOptions& options);

// The final metrics of a checkpoint for its model card, flat name -> value: step, tokens_seen
// and the like from state.json, then the last "train" record (train_loss, train_accuracy, ...) and
// the last "valid" record (valid_loss, valid_perplexity, ...) of `metrics_file` at or before
// `step` (a run may have gone on after the checkpoint). A missing metrics file leaves state.json's
// values only; unparsable lines (a crash mid-write) are skipped.
nlohmann::json final_metrics(const std::filesystem::path& metrics_file, int64_t step, const nlohmann::json& state);

}  // namespace ankh::weights
