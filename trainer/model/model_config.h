// Architecture of the encoder–decoder (`model:` section). Presets live in configs/model/.
#pragma once

#include <cstdint>
#include <string>

#include "core/choices.h"
#include "core/config_fields.h"
#include "core/error.h"

namespace ankh::model {

// The feed-forward block: gated GELU (tanh approximation, T5 v1.1 / Ankh), gated SiLU, plain ReLU.
enum class Activation { GatedGelu, GatedSilu, Relu };
// The attention kernel: plain LibTorch ops (fp32 scores, as Hugging Face), fused (one autograd
// node in the compute dtype, attention_core.h), LibTorch's scaled_dot_product_attention
// (>= 2.1), or auto (fused).
enum class AttentionKernel { Auto, Plain, Fused, Sdpa };
// bf16: autocast on CUDA with fp32 master weights (CPU runs fp32); fp32: everywhere.
enum class Precision { Bf16, Fp32 };

const core::Choices<Activation>& activations();          // gated-gelu | gated-silu | relu (HF's names)
const core::Choices<AttentionKernel>& attention_kernels();  // auto | plain | fused | sdpa
const core::Choices<Precision>& precisions();            // bf16 | fp32
inline const char* name_of(Activation a) { return activations().name(a); }
inline const char* name_of(AttentionKernel a) { return attention_kernels().name(a); }
inline const char* name_of(Precision p) { return precisions().name(p); }

struct ModelConfig {
  int64_t vocab_size = 144;
  int64_t d_model = 768;
  int64_t num_heads = 12;
  int64_t d_kv = 64;
  int64_t d_ff = 3072;
  int64_t encoder_layers = 48;
  int64_t decoder_layers = 24;
  Activation activation = Activation::GatedGelu;
  int64_t relative_buckets = 64;
  int64_t relative_max_distance = 128;
  double dropout = 0.0;
  double layer_norm_eps = 1e-6;
  bool tie_embeddings = false;
  bool activation_checkpointing = false;
  AttentionKernel attention = AttentionKernel::Auto;
  bool fuse_projections = true;    // one GEMM for q/k/v (cross: k/v) and for the gated wi_0/wi_1
  bool fused_norm = true;          // RMSNorm by LibTorch's fused CUDA kernel where there is one
  bool fused_activation = true;    // the gated activation by ankh's CUDA kernel where built (with fuse_projections)
  Precision precision = Precision::Bf16;
  std::string init_from;           // Hugging Face directory to start from ("" = random init)
  bool resize_vocab = false;       // init_from may have fewer embedding rows than vocab_size: new rows = their mean

  void visit(core::FieldVisitor& v);
  void validate(core::IssueList& issues) const;
};

}  // namespace ankh::model
