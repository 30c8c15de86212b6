// The model's weights in and out by Hugging Face name: for checkpoints, `model.init_from`,
// `ankh export` and `ankh embed`, and the T5 config.json that describes a model::ModelConfig.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoints/safetensors.h"
#include "data/data_config.h"
#include "trainer/model/model.h"
#include "trainer/model/model_config.h"

namespace ankh::weights {

// Every parameter under its Hugging Face name (the live tensors, not copies).
checkpoints::NamedTensors parameters_of(model::T5Model& model);

// Which parameters a load fills: all of them, or only what the encoder computes with
// (shared.weight and encoder.*; decoder.* and lm_head.* in the tensors are then ignored), which is
// all that `ankh embed` needs and all that an encoder-only export holds.
enum class ParameterSet { kAll, kEncoder };

// Copies `tensors` into the model's parameters (converting dtype and device). Every parameter
// of the set must be present with its shape; tensors the model lacks are errors too, except HF's
// aliases of shared.weight (encoder/decoder.embed_tokens.weight). CheckpointError listing every
// mismatch, with `source` (a file or directory) as where; nothing is changed then.
void load_parameters(model::T5Model& model, const checkpoints::NamedTensors& tensors, const std::string& source,
                     ParameterSet set = ParameterSet::kAll);

// The Hugging Face T5 config.json of a model config (T5ForConditionalGeneration). With task
// tokens (objective prefix_token, ids 144, 145, ... in this order) it also has
// "task_tokens": {"[S2S]": 144, ...}, token -> id (docs/formats.md, "Hugging Face export").
nlohmann::json hf_t5_config(const model::ModelConfig& config, const std::vector<std::string>& task_tokens = {});

// The task tokens of a config.json in id order ("task_tokens" absent or null: none).
// CheckpointError naming `source` unless it is an object of token -> integer id whose ids are
// 144, 145, ... without gaps, whose tokens are valid task tokens (data::task_token_problem), and
// which fits into vocab_size.
std::vector<std::string> task_tokens_from_hf(const nlohmann::json& hf, const std::string& source);

// The shape of every parameter of a model with this config, in name order, without building it
// (the T5 layout of its config.json): what sizes optimizer state and checkpoints.
std::vector<std::vector<int64_t>> parameter_shapes(const model::ModelConfig& config);

// The architecture a T5 config.json describes, as our model config (other fields from `base`).
// CheckpointError naming the key when one is missing or not supported (e.g. feed_forward_proj).
model::ModelConfig model_config_from_hf(const nlohmann::json& hf, const model::ModelConfig& base, const std::string& source);

// CheckpointError listing every field of config.json that changes what the network computes
// (sizes, layers, heads, buckets, max distance, activation, tied embeddings, RMSNorm epsilon) and
// differs from `config`, each with the model.* key to set. Dropout is a training choice: not checked.
void check_hf_architecture(const nlohmann::json& hf, const model::ModelConfig& config, const std::string& source);

// Token ids must mean what they mean to us (docs/architecture.md, "Vocabulary": Ankh's 144, then
// `task_tokens` from 144 on). When `dir` has a tokenizer.json (a WordLevel or Unigram
// vocabulary), every one of our tokens that it lists must have our id, and when it lists tokens
// past Ankh's 144 it must list each of our task tokens too (a tokenizer without any, such as
// Ankh's own, is fine: a resized vocabulary adds them). CheckpointError naming the first tokens
// that break this, with both ids. Without tokenizer.json (an official Ankh download with only
// spiece.model, say) Ankh's ids are assumed.
void check_hf_vocabulary(const std::filesystem::path& dir, const std::vector<std::string>& task_tokens = {});

// `model.init_from`: reads the Hugging Face directory (ours or an official Ankh download in
// safetensors), checks its config.json against `model.*` and its vocabulary (with `task_tokens`,
// the run's: objective task_tokens()), then copies every tensor by name with its shape checked
// (load_parameters). Errors name `dir`.
// Vocabulary size: the directory's vocab_size may be smaller than model.vocab_size only with
// model.resize_vocab (task tokens added to a 144-token model): its rows of shared.weight (and
// lm_head.weight) are copied and every new row is the mean of the copied ones (docs/model.md,
// "Growing the vocabulary"); a larger one is always an error.
void load_init_from(model::T5Model& model, const model::ModelConfig& config, const std::filesystem::path& dir,
                    const std::vector<std::string>& task_tokens = {});

// The model training starts from, on the CPU: T5Model(config), init_weights(seed) (run.seed),
// then model.init_from when it is set (`task_tokens`: the run's, for the vocabulary check).
// The trainer calls this, so tests exercise the same path.
model::T5Model initialise_model(const model::ModelConfig& config, uint64_t seed, const std::vector<std::string>& task_tokens = {});

// The model config of a checkpoint directory (its config.yaml), of a run directory (its newest
// committed checkpoint, logged) or of a Hugging Face directory (its config.json), and its
// tensors: what `ankh export` and `ankh embed` load. A checkpoint is opened only when committed
// (CheckpointReader), and its model.safetensors is checked against the marker's XXH64 on the way.
struct LoadedWeights {
  model::ModelConfig config;
  checkpoints::NamedTensors tensors;
  std::string source;         // the directory the tensors came from (the checkpoint, for a run dir)
  int64_t step = -1;          // checkpoint step; -1 for a Hugging Face directory
  bool hugging_face = false;  // read from config.json + model.safetensors
  std::string config_yaml;    // checkpoint: its resolved config.yaml ("" for Hugging Face)
  nlohmann::json state;       // checkpoint: its state.json (null for Hugging Face)
  nlohmann::json hf_config;   // Hugging Face: its config.json (null for a checkpoint)
  // The task tokens of the vocabulary (ids 144, ...): a checkpoint's from the objective section of
  // its config.yaml (none when it has no objective section), a Hugging Face directory's from
  // config.json's "task_tokens". An objective section that does not parse is a CheckpointError.
  std::vector<std::string> task_tokens;
  // A checkpoint's objective section, as it trained (the single objective or the mixture): what
  // inference reads the tasks' prefix tokens from. Defaults for a Hugging Face directory.
  data::ObjectiveConfig objective;
  int64_t max_length = 0;  // a checkpoint's data.max_length (encoder tokens it trained on); 0 unknown
};
LoadedWeights load_weights(const std::filesystem::path& checkpoint_run_or_hf_dir);

}  // namespace ankh::weights
