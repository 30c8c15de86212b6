// The parameter names and shapes of Hugging Face's T5 models (T5ForConditionalGeneration,
// T5EncoderModel) implied by a T5 config.json. Export checks what it writes against this, and
// `model.init_from` what it reads; scripts/check_hf_export.py is the independent Python twin.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoints/safetensors.h"

namespace ankh::checkpoints {

using Shape = std::vector<int64_t>;

struct T5Layout {
  std::map<std::string, Shape> required;
  // Accepted when present, with this shape: the embedding copies that tie to shared.weight
  // (encoder/decoder.embed_tokens), and lm_head.weight when the config ties it.
  std::map<std::string, Shape> optional;
};

// `config` is a T5 config.json (vocab_size, d_model, d_kv, d_ff, num_layers, num_heads,
// relative_attention_num_buckets; num_decoder_layers, feed_forward_proj, tie_word_embeddings with
// Hugging Face's defaults). CheckpointError naming the key when one is missing or not an integer.
T5Layout t5_layout(const nlohmann::json& config, bool encoder_only);

// One line per missing, unexpected or mis-shaped tensor ("missing encoder.final_layer_norm.weight
// [512]"); empty when `shapes` fits the layout.
std::vector<std::string> check_t5_tensors(const T5Layout& layout, const std::map<std::string, Shape>& shapes);
std::map<std::string, Shape> shapes_of(const NamedTensors& tensors);

}  // namespace ankh::checkpoints
