// The encoder-decoder that `ankh score` and `ankh generate` run: the weights of a checkpoint, a
// run directory (its newest committed checkpoint) or a full Hugging Face export, on a device and
// dtype, in eval mode with dropout off.
#pragma once

#include <filesystem>
#include <string>

#include <torch/types.h>

#include "trainer/model/model.h"
#include "trainer/weights/model_io.h"

namespace ankh::generation {

struct DecodingModel {
  model::T5Model model{nullptr};
  // Where the weights came from (source, step, config.yaml, task tokens, ...); its tensors are
  // released once they are in the model.
  weights::LoadedWeights weights;
};

// Whether the weights have no decoder: an `ankh export --encoder-only` or a T5EncoderModel.
bool is_encoder_only(const weights::LoadedWeights& w);

// CheckpointError for an encoder-only export ("... cannot <purpose>: it has no decoder") and for a
// vocabulary without Ankh's 144 ids; a Hugging Face tokenizer is checked against its task tokens.
DecodingModel load_decoding_model(const std::filesystem::path& source, const torch::Device& device,
                                  torch::ScalarType dtype, const std::string& purpose);

}  // namespace ankh::generation
