// The model's weights in and out by Hugging Face name: for checkpoints, `model.init_from`,
// `ankh export` and `ankh embed`, and the T5 config.json that describes a ModelConfig.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "checkpoints/safetensors.h"
#include "trainer/model/model.h"

namespace ankh::trainer {

// Every parameter under its Hugging Face name (the live tensors, not copies).
ckpt::NamedTensors parameters_of(model::T5Model& model);

// Copies `tensors` into the model's parameters (converting dtype and device). Every parameter
// must be present with its shape; tensors the model lacks are errors too, except HF's aliases of
// shared.weight (encoder/decoder.embed_tokens.weight). CheckpointError listing every mismatch,
// with `source` (a file or directory) as where; nothing is changed then.
void load_parameters(model::T5Model& model, const ckpt::NamedTensors& tensors, const std::string& source);

// The Hugging Face T5 config.json of a model config (T5ForConditionalGeneration).
nlohmann::json hf_t5_config(const ModelConfig& config);

// The architecture a T5 config.json describes, as our model config (other fields from `base`).
// CheckpointError naming the key when one is missing or not supported (e.g. feed_forward_proj).
ModelConfig model_config_from_hf(const nlohmann::json& hf, const ModelConfig& base, const std::string& source);

// The model config of a checkpoint directory (its config.yaml) or a Hugging Face directory
// (its config.json), and its tensors: what `ankh embed` and `ankh eval` load.
struct LoadedWeights {
  ModelConfig config;
  ckpt::NamedTensors tensors;
  std::string source;
  int64_t step = -1;  // checkpoint step; -1 for a Hugging Face directory
};
LoadedWeights load_weights(const std::filesystem::path& checkpoint_or_hf_dir);

}  // namespace ankh::trainer
