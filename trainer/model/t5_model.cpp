#include "trainer/model/t5_model.h"

#include <cmath>

#include <ATen/CPUGeneratorImpl.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/strings.h"
#include "data/batch.h"

namespace ankh::model {

T5ModelImpl::T5ModelImpl(const ModelConfig& config) : config_(config) {
  shared = register_module("shared", torch::nn::Embedding(config.vocab_size, config.d_model));
  encoder = register_module("encoder", Stack(config, /*is_decoder=*/false));
  decoder = register_module("decoder", Stack(config, /*is_decoder=*/true));
  if (!config.tie_embeddings)
    lm_head = register_module(
        "lm_head", torch::nn::Linear(torch::nn::LinearOptions(config.d_model, config.vocab_size).bias(false)));
}

double init_std(const ModelConfig& c, const std::string& name) {
  const double d_model = static_cast<double>(c.d_model);
  auto ends = [&](const char* suffix) { return core::ends_with(name, suffix); };
  if (name == "shared.weight") return 1.0;
  if (name == "lm_head.weight") return std::pow(d_model, -0.5);
  if (ends("layer_norm.weight")) return 0.0;  // RMSNorm gains start at 1
  if (ends(".q.weight")) return std::pow(d_model * static_cast<double>(c.d_kv), -0.5);
  if (ends(".k.weight") || ends(".v.weight")) return std::pow(d_model, -0.5);
  if (ends(".o.weight")) return std::pow(static_cast<double>(c.num_heads * c.d_kv), -0.5);
  // Mesh TF leaves the relative bias to its default; Hugging Face uses d_model^-0.5: the same here.
  if (ends(".relative_attention_bias.weight")) return std::pow(d_model, -0.5);
  if (ends(".wi.weight") || ends(".wi_0.weight") || ends(".wi_1.weight")) return std::pow(d_model, -0.5);
  if (ends(".wo.weight")) return std::pow(static_cast<double>(c.d_ff), -0.5);
  throw core::Error("no initialisation rule for parameter '" + name + "'", "model::init_std",
                    "add one next to the others in trainer/model/t5_model.cpp");
}

void T5ModelImpl::init_weights(uint64_t seed) {
  torch::NoGradGuard no_grad;
  for (auto& item : named_parameters()) {
    torch::Tensor& param = item.value();
    const double std = init_std(config_, item.key());
    if (std == 0.0) {
      param.fill_(1.0);
      continue;
    }
    auto generator = at::make_generator<at::CPUGeneratorImpl>(core::hash_words(seed, core::hash_bytes(item.key())));
    torch::Tensor values = torch::empty(param.sizes(), torch::TensorOptions().dtype(torch::kFloat));
    values.normal_(0.0, std, generator);
    param.copy_(values);
  }
}

DropoutKeys T5ModelImpl::dropout_keys(int64_t step, const std::vector<int64_t>& positions, int64_t rows,
                                      const torch::Device& device) const {
  if (!is_training() || config_.dropout <= 0) return {};
  return DropoutKeys::for_samples(dropout_seed_, step, positions, rows, device);
}

DropoutKeys T5ModelImpl::keys_or_default(const DropoutKeys& keys, const torch::Tensor& ids) const {
  if (keys.defined()) return keys;
  return dropout_keys(/*step=*/0, {}, ids.size(0), ids.device());
}

torch::Tensor T5ModelImpl::encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                  const DropoutKeys& keys) {
  return encoder->forward(shared(input_ids), attention_mask, torch::Tensor(), torch::Tensor(),
                          keys_or_default(keys, input_ids));
}

torch::Tensor T5ModelImpl::decode(const torch::Tensor& decoder_input_ids, const torch::Tensor& decoder_attention_mask,
                                  const torch::Tensor& encoder_hidden, const torch::Tensor& attention_mask,
                                  const DropoutKeys& keys) {
  torch::Tensor hidden = decoder->forward(shared(decoder_input_ids), decoder_attention_mask, encoder_hidden, attention_mask,
                                 keys_or_default(keys, decoder_input_ids));
  return logits(hidden);
}

torch::Tensor T5ModelImpl::logits(const torch::Tensor& hidden) {
  if (lm_head) return lm_head(hidden);
  // Tied embeddings, the Hugging Face way: rescale by d_model^-0.5 before the shared matrix.
  return torch::nn::functional::linear(hidden * std::pow(static_cast<double>(config_.d_model), -0.5), shared->weight);
}

void T5ModelImpl::require_eval(const char* what) const {
  if (is_training())
    throw core::Error(std::string(what) + " needs the model in eval mode", "model::T5Model",
                      "call model->eval() before incremental decoding");
}

DecoderCache T5ModelImpl::start_decoding(const torch::Tensor& encoder_hidden, const torch::Tensor& attention_mask,
                                         const torch::Tensor& rows) {
  require_eval("start_decoding");
  torch::NoGradGuard no_grad;
  DecoderCache cache;
  decoder->start_decoding(cache, encoder_hidden, attention_mask);
  set_rows(cache, rows);
  return cache;
}

torch::Tensor T5ModelImpl::decode_step(DecoderCache& cache, const torch::Tensor& tokens) {
  require_eval("decode_step");
  if (tokens.dim() != 1 || tokens.size(0) != cache.decoding_rows())
    throw core::Error("decode_step needs one token per decoding row (" + std::to_string(cache.decoding_rows()) + ")",
                      "model::T5Model");
  torch::NoGradGuard no_grad;
  return logits(decoder->forward_step(shared(tokens.unsqueeze(1)), cache)).squeeze(1);
}

void T5ModelImpl::reorder(DecoderCache& cache, const torch::Tensor& keep) {
  torch::NoGradGuard no_grad;
  reorder_rows(cache, keep);
}

torch::Tensor T5ModelImpl::forward(const data::Batch& batch) {
  // One host-to-device copy of the keys per micro-batch, shared by every dropout site.
  const DropoutKeys keys = dropout_keys(batch.step, batch.global_positions, batch.size(), batch.input_ids.device());
  const torch::Tensor encoder_hidden = encode(batch.input_ids, batch.attention_mask, keys);
  return decode(batch.decoder_input_ids, batch.decoder_attention_mask, encoder_hidden, batch.attention_mask, keys);
}

}  // namespace ankh::model
