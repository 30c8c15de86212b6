#include "trainer/model/model_config.h"

#include "trainer/model/attention.h"

namespace ankh::model {

using core::Bounds;

const core::Choices<Activation>& activations() {
  static const core::Choices<Activation> table{
      {Activation::GatedGelu, "gated-gelu"}, {Activation::GatedSilu, "gated-silu"}, {Activation::Relu, "relu"}};
  return table;
}

const core::Choices<AttentionKernel>& attention_kernels() {
  static const core::Choices<AttentionKernel> table{
      {AttentionKernel::Auto, "auto"},
      {AttentionKernel::Plain, "plain"},
      {AttentionKernel::Fused, "fused"},
      {AttentionKernel::Sdpa, "sdpa"}};
  return table;
}

const core::Choices<Precision>& precisions() {
  static const core::Choices<Precision> table{{Precision::Bf16, "bf16"}, {Precision::Fp32, "fp32"}};
  return table;
}

void ModelConfig::visit(core::FieldVisitor& v) {
  v.section("model", "encoder–decoder architecture (T5 v1.1 / Ankh)");
  v.field("vocab_size", vocab_size, Bounds::closed(144, 1 << 20), "embedding rows; Ankh's vocabulary has 144 ids");
  v.field("d_model", d_model, Bounds::at_least(1), "width of the residual stream");
  v.field("num_heads", num_heads, Bounds::at_least(1), "attention heads");
  v.field("d_kv", d_kv, Bounds::at_least(1), "width of each attention head");
  v.field("d_ff", d_ff, Bounds::at_least(1), "inner width of the feed-forward block");
  v.field("encoder_layers", encoder_layers, Bounds::at_least(1), "encoder blocks");
  v.field("decoder_layers", decoder_layers, Bounds::at_least(1), "decoder blocks");
  core::choice(v, "activation", activation, activations(),
               "feed-forward: gated GELU (tanh approximation), gated SiLU, or plain ReLU");
  v.field("relative_buckets", relative_buckets, Bounds::at_least(2), "relative position buckets");
  v.field("relative_max_distance", relative_max_distance, Bounds::at_least(1),
          "distance beyond which relative positions share the last bucket");
  v.field("dropout", dropout, Bounds::half_open(0, 1), "dropout rate (Ankh: 0)");
  v.field("layer_norm_eps", layer_norm_eps, Bounds::above(0), "RMSNorm epsilon");
  v.field("tie_embeddings", tie_embeddings, "share the input embedding with the LM head (Ankh: false)");
  v.field("activation_checkpointing", activation_checkpointing,
          "recompute each block's activations in backward to save memory");
  core::choice(v, "attention", attention, attention_kernels(),
           "attention kernel: plain (LibTorch ops, fp32 scores as Hugging Face), fused (one autograd node in the "
           "compute dtype with fp32 softmax statistics), sdpa (LibTorch >= 2.1), or auto (fused; see docs/model.md)");
  v.field("fuse_projections", fuse_projections,
          "one GEMM for q/k/v (cross-attention: k/v) and for the gated wi_0/wi_1, weights concatenated per step "
          "(parameters and checkpoints unchanged)");
  v.field("fused_norm", fused_norm,
          "RMSNorm by LibTorch's fused CUDA kernel (LibTorch >= 2.8, fp32 input and weight: training under autocast); "
          "elsewhere, and when false, the composed ops");
  v.field("fused_activation", fused_activation,
          "the gated activation act(wi_0 x) * wi_1 x by ankh's CUDA kernel, one pass forward and one backward (CUDA "
          "tensors, with fuse_projections, in a build with nvcc and a CUDA LibTorch); elsewhere LibTorch's ops");
  core::choice(v, "precision", precision, precisions(),
           "bf16: autocast on CUDA with fp32 master weights (CPU runs fp32); fp32: everywhere");
  v.field("init_from", init_from, "Hugging Face T5 directory to initialise from (empty: random init)");
  v.field("resize_vocab", resize_vocab,
          "let init_from have fewer embedding rows than vocab_size (a 144-token model, task tokens added): its rows are "
          "copied and each new row of shared and lm_head starts as their mean; without it a smaller vocabulary is an error");
}

void ModelConfig::validate(core::IssueList& issues) const {
  if (relative_buckets % 2 != 0)
    issues.add("model.relative_buckets", "", "must be even (the encoder splits buckets by direction)");
  if (attention == AttentionKernel::Sdpa && !model::sdpa_available())
    issues.add("model.attention", "", "sdpa needs LibTorch >= 2.1; this build has an older LibTorch",
               "use model.attention=auto, fused or plain");
}

}  // namespace ankh::model
