#include "trainer/generation/decoding_model.h"

#include <algorithm>

#include "core/error.h"
#include "data/vocab.h"

namespace ankh::generation {

bool is_encoder_only(const weights::LoadedWeights& w) {
  if (w.hf_config.is_object() && w.hf_config.contains("architectures") && w.hf_config["architectures"].is_array())
    for (const auto& a : w.hf_config["architectures"])
      if (a.is_string() && a.get<std::string>() == "T5EncoderModel") return true;
  return std::none_of(w.tensors.begin(), w.tensors.end(), [](const auto& kv) { return kv.first.rfind("decoder.", 0) == 0; });
}

DecodingModel load_decoding_model(const std::filesystem::path& source, const torch::Device& device, torch::ScalarType dtype,
                                  const std::string& purpose) {
  DecodingModel m;
  m.weights = weights::load_weights(source);
  const weights::LoadedWeights& w = m.weights;
  if (is_encoder_only(w))
    throw core::CheckpointError("an encoder-only model cannot " + purpose + ": it has no decoder", w.source,
                                "use a checkpoint, a run directory or a full export (ankh export without --encoder-only)");
  if (w.hugging_face) weights::check_hf_vocabulary(source, w.task_tokens);
  if (w.config.vocab_size < data::kVocabSize)
    throw core::CheckpointError("vocab_size " + std::to_string(w.config.vocab_size) + " is smaller than Ankh's 144 tokens",
                                w.source, "the decoder writes Ankh's residues and sentinels (ids 3..143)");
  model::ModelConfig config = w.config;
  config.dropout = 0.0;
  config.activation_checkpointing = false;
  m.model = model::T5Model(config);
  weights::load_parameters(m.model, w.tensors, w.source);
  m.weights.tensors.clear();
  m.model->to(device, dtype);
  m.model->eval();
  return m;
}

}  // namespace ankh::generation
