// Architecture of the encoder–decoder (`model:` section). Presets live in configs/model/.
#pragma once

#include <cstdint>
#include <string>

#include "core/config_fields.h"
#include "core/error.h"

namespace ankh::model {

struct ModelConfig {
  int64_t vocab_size = 144;
  int64_t d_model = 768;
  int64_t num_heads = 12;
  int64_t d_kv = 64;
  int64_t d_ff = 3072;
  int64_t encoder_layers = 48;
  int64_t decoder_layers = 24;
  std::string activation = "gated-gelu";  // gated-gelu | gated-silu | relu
  int64_t relative_buckets = 64;
  int64_t relative_max_distance = 128;
  double dropout = 0.0;
  double layer_norm_eps = 1e-6;
  bool tie_embeddings = false;
  bool activation_checkpointing = false;
  std::string attention = "auto";  // auto (= plain, measured faster) | plain | sdpa (LibTorch >= 2.1)
  std::string precision = "bf16";  // bf16 | fp32
  std::string init_from;           // Hugging Face directory to start from ("" = random init)

  void visit(core::FieldVisitor& v);
  void validate(core::IssueList& issues) const;
};

}  // namespace ankh::model
