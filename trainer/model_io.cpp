#include "trainer/model_io.h"

#include <filesystem>

#include "checkpoints/checkpoint_dir.h"
#include "checkpoints/hf_export.h"
#include "core/config.h"
#include "core/error.h"
#include "trainer/run_config.h"

namespace ankh::trainer {

namespace fs = std::filesystem;

ckpt::NamedTensors parameters_of(model::T5Model& model) {
  ckpt::NamedTensors out;
  for (const auto& item : model->named_parameters()) out.emplace(item.key(), item.value());
  return out;
}

namespace {
std::string shape_text(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}
bool is_embedding_alias(const std::string& name) {
  return name == "encoder.embed_tokens.weight" || name == "decoder.embed_tokens.weight";
}
}  // namespace

void load_parameters(model::T5Model& model, const ckpt::NamedTensors& tensors, const std::string& source) {
  auto params = parameters_of(model);
  std::vector<std::string> problems;
  for (const auto& [name, param] : params) {
    auto it = tensors.find(name);
    if (it == tensors.end()) problems.push_back("missing " + name + " " + shape_text(param));
    else if (it->second.sizes() != param.sizes())
      problems.push_back(name + " has shape " + shape_text(it->second) + ", the model needs " + shape_text(param));
  }
  for (const auto& [name, tensor] : tensors)
    if (!params.count(name) && !is_embedding_alias(name))
      problems.push_back("unexpected " + name + " " + shape_text(tensor));
  if (!problems.empty()) {
    std::string text;
    for (const auto& p : problems) text += "\n    " + p;
    throw core::CheckpointError("the weights do not fit the configured model:" + text, source,
                                "the model section of the config must match the one the weights were trained with");
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, param] : params) param.copy_(tensors.at(name));
}

nlohmann::json hf_t5_config(const ModelConfig& c) {
  return {
      {"architectures", {"T5ForConditionalGeneration"}},
      {"model_type", "t5"},
      {"vocab_size", c.vocab_size},
      {"d_model", c.d_model},
      {"d_kv", c.d_kv},
      {"d_ff", c.d_ff},
      {"num_layers", c.encoder_layers},
      {"num_decoder_layers", c.decoder_layers},
      {"num_heads", c.num_heads},
      {"relative_attention_num_buckets", c.relative_buckets},
      {"relative_attention_max_distance", c.relative_max_distance},
      {"dropout_rate", c.dropout},
      {"layer_norm_epsilon", c.layer_norm_eps},
      {"initializer_factor", 1.0},
      {"feed_forward_proj", c.activation},
      {"tie_word_embeddings", c.tie_embeddings},
      {"is_encoder_decoder", true},
      {"use_cache", true},
      {"pad_token_id", 0},
      {"eos_token_id", 1},
      {"decoder_start_token_id", 0},
      {"torch_dtype", "float32"},
  };
}

ModelConfig model_config_from_hf(const nlohmann::json& hf, const ModelConfig& base, const std::string& source) {
  ModelConfig c = base;
  auto integer = [&](const char* key, int64_t& out, bool required = true) {
    if (!hf.contains(key)) {
      if (required) throw core::CheckpointError(std::string("config.json has no '") + key + "'", source);
      return;
    }
    if (!hf[key].is_number_integer())
      throw core::CheckpointError(std::string("config.json: '") + key + "' is not an integer", source);
    out = hf[key].get<int64_t>();
  };
  integer("vocab_size", c.vocab_size);
  integer("d_model", c.d_model);
  integer("d_kv", c.d_kv);
  integer("d_ff", c.d_ff);
  integer("num_layers", c.encoder_layers);
  c.decoder_layers = c.encoder_layers;  // HF's default when num_decoder_layers is absent
  integer("num_decoder_layers", c.decoder_layers, false);
  integer("num_heads", c.num_heads);
  integer("relative_attention_num_buckets", c.relative_buckets);
  c.relative_max_distance = 128;
  integer("relative_attention_max_distance", c.relative_max_distance, false);
  if (hf.contains("dropout_rate") && hf["dropout_rate"].is_number()) c.dropout = hf["dropout_rate"].get<double>();
  if (hf.contains("layer_norm_epsilon") && hf["layer_norm_epsilon"].is_number())
    c.layer_norm_eps = hf["layer_norm_epsilon"].get<double>();
  c.tie_embeddings = hf.value("tie_word_embeddings", true);  // HF's default
  const std::string act = hf.value("feed_forward_proj", std::string("relu"));
  if (act != "gated-gelu" && act != "gated-silu" && act != "relu")
    throw core::CheckpointError("config.json: feed_forward_proj '" + act + "' is not supported", source,
                                "ankh models use gated-gelu, gated-silu or relu");
  c.activation = act;
  return c;
}

LoadedWeights load_weights(const fs::path& dir) {
  LoadedWeights w;
  w.source = dir.string();
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw core::IoError("not a directory", dir.string(), "give a checkpoint (RUN/checkpoints/step-N) or a Hugging Face directory");
  if (fs::exists(dir / "config.json")) {
    auto hf = ckpt::read_hf_directory(dir);
    w.config = model_config_from_hf(hf.config, ModelConfig{}, (dir / "config.json").string());
    w.config.precision = "fp32";
    w.tensors = std::move(hf.tensors);
    return w;
  }
  const auto reader = ckpt::CheckpointReader::open(dir);
  core::ConfigSource source;
  const fs::path config_file = dir / "config.yaml";
  source.add_file(config_file);
  w.config = core::resolve<RunConfig>(source).model;
  w.tensors = reader.load_tensors("model.safetensors");
  w.step = reader.step();
  return w;
}

}  // namespace ankh::trainer
