// Hugging Face model directories: writing the one `ankh export` produces (loadable with
// transformers' T5ForConditionalGeneration / T5EncoderModel and AutoTokenizer), and reading one
// back for `model.init_from` (ours, or an official Ankh download converted to safetensors).
//
//   DIR/config.json              the T5 config (built by the caller from the model config; with task
//                                tokens, "task_tokens": {"[S2S]": 144, ...}, token -> id)
//   DIR/model.safetensors        tensors under Hugging Face names, fp32, bf16 or fp16
//   DIR/tokenizer.json, tokenizer_config.json, special_tokens_map.json   (hf_tokenizer.h)
//   DIR/README.md                model card: architecture, training config, final metrics
//
// Written into DIR.tmp and renamed when complete.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "core/choices.h"
#include "checkpoints/hf_tokenizer.h"
#include "checkpoints/safetensors.h"

namespace ankh::checkpoints {

struct HfModelCard {
  std::string name = "ankh model";    // title of the card
  std::string source;                 // the checkpoint exported, e.g. runs/x/checkpoints/step-00005000
  int64_t step = -1;                  // training step of that checkpoint (-1: not given)
  std::string training_config_yaml;   // the resolved run config
  nlohmann::json metrics = nlohmann::json::object();  // final metrics, name -> value
};

struct HfExportOptions {
  torch::ScalarType dtype = torch::kFloat32;  // kFloat32, kBFloat16 or kFloat16 (floating tensors only)
  bool encoder_only = false;                  // keep shared.* and encoder.* (for T5EncoderModel)
  bool overwrite = false;                     // replace an existing DIR (only once the new one is complete)
};

// The dtypes an export may write: fp32 | bf16 | fp16 (`ankh export --dtype`).
const core::Choices<torch::ScalarType>& export_dtypes();

// Writes the directory. `tensors` carry Hugging Face names; they are checked against the T5
// layout of `t5_config` first (CheckpointError listing every missing, unexpected and mis-shaped
// tensor). Returns `out`.
std::filesystem::path write_hf_directory(const std::filesystem::path& out, const nlohmann::json& t5_config,
                                         const NamedTensors& tensors, const TokenizerSpec& tokenizer,
                                         const HfModelCard& card, const HfExportOptions& options = {});

// The README.md text write_hf_directory writes.
std::string model_card_markdown(const nlohmann::json& t5_config, const HfModelCard& card, const HfExportOptions& options);

struct HfModel {
  nlohmann::json config;  // config.json
  NamedTensors tensors;   // as stored (dtype included)
};

// Reads config.json and model.safetensors, or the shards of model.safetensors.index.json.
// CheckpointError naming the file for anything missing or damaged (with a conversion hint for
// pytorch_model.bin-only directories).
HfModel read_hf_directory(const std::filesystem::path& dir);

}  // namespace ankh::checkpoints
