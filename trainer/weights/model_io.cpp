#include "trainer/weights/model_io.h"

#include <cmath>
#include <filesystem>
#include <type_traits>

#include <spdlog/spdlog.h>

#include "checkpoints/checkpoint_dir.h"
#include "checkpoints/hf_export.h"
#include "checkpoints/t5_layout.h"
#include "core/config.h"
#include "core/error.h"
#include "core/files.h"
#include "core/strings.h"
#include "data/vocab.h"

namespace ankh::weights {

namespace fs = std::filesystem;

checkpoints::NamedTensors parameters_of(model::T5Model& model) {
  checkpoints::NamedTensors out;
  for (const auto& item : model->named_parameters()) out.emplace(item.key(), item.value());
  return out;
}

namespace {
std::string shape_text(const torch::Tensor& t) { return core::shape_text(t.sizes().vec()); }
bool is_embedding_alias(const std::string& name) {
  return name == "encoder.embed_tokens.weight" || name == "decoder.embed_tokens.weight";
}
bool in_set(const std::string& name, ParameterSet set) {
  return set == ParameterSet::kAll || core::starts_with(name, "shared.") || core::starts_with(name, "encoder.");
}
}  // namespace

void load_parameters(model::T5Model& model, const checkpoints::NamedTensors& tensors, const std::string& source, ParameterSet set) {
  checkpoints::NamedTensors params;
  for (auto& [name, param] : parameters_of(model))
    if (in_set(name, set)) params.emplace(name, param);
  std::vector<std::string> problems;
  for (const auto& [name, param] : params) {
    auto it = tensors.find(name);
    if (it == tensors.end()) problems.push_back("missing " + name + " " + shape_text(param));
    else if (it->second.sizes() != param.sizes())
      problems.push_back(name + " has shape " + shape_text(it->second) + ", the model needs " + shape_text(param));
  }
  for (const auto& [name, tensor] : tensors)
    if (in_set(name, set) && !params.count(name) && !is_embedding_alias(name))
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

nlohmann::json hf_t5_config(const model::ModelConfig& c) {
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
      {"feed_forward_proj", model::name_of(c.activation)},  // our names are Hugging Face's
      {"tie_word_embeddings", c.tie_embeddings},
      {"is_encoder_decoder", true},
      {"use_cache", true},
      {"pad_token_id", 0},
      {"eos_token_id", 1},
      {"decoder_start_token_id", 0},
      {"torch_dtype", "float32"},
  };
}

std::vector<std::vector<int64_t>> parameter_shapes(const model::ModelConfig& config) {
  std::vector<std::vector<int64_t>> shapes;
  for (const auto& [name, shape] : checkpoints::t5_layout(hf_t5_config(config), /*encoder_only=*/false).required)
    shapes.push_back(shape);
  return shapes;
}

model::ModelConfig model_config_from_hf(const nlohmann::json& hf, const model::ModelConfig& base, const std::string& source) {
  model::ModelConfig c = base;
  if (!hf.is_object()) throw core::CheckpointError("config.json is not a JSON object", source, "not a Hugging Face T5 config");
  // Sizes from 1 to bounds far above any T5, so that a config.json from elsewhere cannot make the
  // layout of its tensors (checkpoints/t5_layout.h) overflow or list 10^8 layers.
  auto integer = [&](const char* key, int64_t& out, bool required = true, int64_t max = int64_t{1} << 24) {
    if (!hf.contains(key)) {
      if (required) throw core::CheckpointError(std::string("config.json has no '") + key + "'", source);
      return;
    }
    const nlohmann::json& v = hf[key];
    if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > max)
      throw core::CheckpointError(std::string("config.json: '") + key + "' is not an integer from 1 to " + std::to_string(max) +
                                      ": " + v.dump(),
                                  source);
    out = v.get<int64_t>();
  };
  // A boolean or string key: HF's default when absent, an error when of another type.
  auto typed = [&](const char* key, auto fallback) {
    using T = decltype(fallback);
    if (!hf.contains(key) || hf[key].is_null()) return fallback;
    if (std::is_same_v<T, bool> ? !hf[key].is_boolean() : !hf[key].is_string())
      throw core::CheckpointError(std::string("config.json: '") + key + "' is not a " +
                                      (std::is_same_v<T, bool> ? "boolean" : "string") + ": " + hf[key].dump(),
                                  source);
    return hf[key].get<T>();
  };
  integer("vocab_size", c.vocab_size);
  integer("d_model", c.d_model);
  integer("d_kv", c.d_kv);
  integer("d_ff", c.d_ff);
  integer("num_layers", c.encoder_layers, true, 1024);
  c.decoder_layers = c.encoder_layers;  // HF's default when num_decoder_layers is absent
  integer("num_decoder_layers", c.decoder_layers, false, 1024);
  integer("num_heads", c.num_heads);
  integer("relative_attention_num_buckets", c.relative_buckets);
  c.relative_max_distance = 128;
  integer("relative_attention_max_distance", c.relative_max_distance, false);
  if (hf.contains("dropout_rate") && hf["dropout_rate"].is_number()) c.dropout = hf["dropout_rate"].get<double>();
  if (hf.contains("layer_norm_epsilon") && hf["layer_norm_epsilon"].is_number())
    c.layer_norm_eps = hf["layer_norm_epsilon"].get<double>();
  c.tie_embeddings = typed("tie_word_embeddings", true);  // HF's default
  const std::string act = typed("feed_forward_proj", std::string("relu"));
  const auto activation = model::activations().parse(act);
  if (!activation)
    throw core::CheckpointError("config.json: feed_forward_proj '" + act + "' is not supported", source,
                                "ankh models use " + core::join(model::activations().names(), ", "));
  c.activation = *activation;
  return c;
}

void check_hf_architecture(const nlohmann::json& hf, const model::ModelConfig& config, const std::string& source) {
  const model::ModelConfig theirs = model_config_from_hf(hf, config, source);
  std::vector<std::string> diffs;
  auto same = [&](const char* hf_key, const char* our_key, const auto& a, const auto& b) {
    if (a != b) diffs.push_back(std::string(hf_key) + " = " + nlohmann::json(a).dump() + ", model." + our_key + " = " + nlohmann::json(b).dump());
  };
  same("vocab_size", "vocab_size", theirs.vocab_size, config.vocab_size);
  same("d_model", "d_model", theirs.d_model, config.d_model);
  same("num_heads", "num_heads", theirs.num_heads, config.num_heads);
  same("d_kv", "d_kv", theirs.d_kv, config.d_kv);
  same("d_ff", "d_ff", theirs.d_ff, config.d_ff);
  same("num_layers", "encoder_layers", theirs.encoder_layers, config.encoder_layers);
  same("num_decoder_layers", "decoder_layers", theirs.decoder_layers, config.decoder_layers);
  same("relative_attention_num_buckets", "relative_buckets", theirs.relative_buckets, config.relative_buckets);
  same("relative_attention_max_distance", "relative_max_distance", theirs.relative_max_distance, config.relative_max_distance);
  same("feed_forward_proj", "activation", std::string(model::name_of(theirs.activation)),
       std::string(model::name_of(config.activation)));
  same("tie_word_embeddings", "tie_embeddings", theirs.tie_embeddings, config.tie_embeddings);
  // Equal up to printing: a value that went through JSON and YAML keeps its meaning, not its bits.
  if (std::abs(theirs.layer_norm_eps - config.layer_norm_eps) > 1e-6 * std::abs(config.layer_norm_eps))
    same("layer_norm_epsilon", "layer_norm_eps", theirs.layer_norm_eps, config.layer_norm_eps);
  if (diffs.empty()) return;
  std::string what = "config.json describes another architecture than the model section:";
  for (const auto& d : diffs) what += "\n    " + d;
  throw core::CheckpointError(what, source, "set the model.* keys to the values of config.json (or use a matching preset)");
}

void check_hf_vocabulary(const fs::path& dir) {
  const fs::path file = dir / "tokenizer.json";
  if (!fs::exists(file)) {
    spdlog::info("{} has no tokenizer.json: assuming Ankh's vocabulary ({} tokens, docs/architecture.md)", dir.string(), data::kVocabSize);
    return;
  }
  nlohmann::json tok;
  try {
    tok = nlohmann::json::parse(core::read_file(file));
  } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for a number past a double (1e606)
    throw core::CheckpointError(std::string("not valid JSON: ") + e.what(), file.string());
  }
  // token -> id as the tokenizer has it: WordLevel/BPE keep {token: id}, Unigram [[token, score], ...].
  std::map<std::string, int64_t> ids;
  const nlohmann::json vocab =
      tok.contains("model") && tok["model"].is_object() ? tok["model"].value("vocab", nlohmann::json()) : nlohmann::json();
  if (vocab.is_object()) {
    for (auto it = vocab.begin(); it != vocab.end(); ++it)
      if (it.value().is_number_integer()) ids[it.key()] = it.value().get<int64_t>();
  } else if (vocab.is_array()) {
    for (std::size_t i = 0; i < vocab.size(); ++i)
      if (vocab[i].is_array() && !vocab[i].empty() && vocab[i][0].is_string()) ids.emplace(vocab[i][0].get<std::string>(), static_cast<int64_t>(i));
  }
  if (tok.contains("added_tokens") && tok["added_tokens"].is_array())
    for (const auto& t : tok["added_tokens"])
      if (t.contains("content") && t.contains("id") && t["content"].is_string() && t["id"].is_number_integer())
        ids[t["content"].get<std::string>()] = t["id"].get<int64_t>();
  if (ids.empty()) {
    spdlog::warn("{}: no vocabulary found in it; assuming Ankh's ids", file.string());
    return;
  }
  const auto ours = data::vocabulary();
  std::vector<std::string> wrong;
  for (std::size_t id = 0; id < ours.size(); ++id) {
    auto it = ids.find(ours[id]);
    if (it != ids.end() && it->second != static_cast<int64_t>(id))
      wrong.push_back("'" + ours[id] + "' is " + std::to_string(it->second) + ", ankh's is " + std::to_string(id));
  }
  if (wrong.empty()) return;
  if (wrong.size() > 5) {
    wrong.resize(5);
    wrong.push_back("...");
  }
  throw core::CheckpointError("the tokenizer numbers tokens differently from ankh's vocabulary: " + core::join(wrong, "; "),
                              file.string(), "ankh uses Ankh's 144-token vocabulary (docs/architecture.md, \"Vocabulary\"); this model was trained on another one");
}

void load_init_from(model::T5Model& model, const model::ModelConfig& config, const fs::path& dir) {
  const auto hf = checkpoints::read_hf_directory(dir);
  check_hf_architecture(hf.config, config, (dir / "config.json").string());
  check_hf_vocabulary(dir);
  load_parameters(model, hf.tensors, dir.string());
}

model::T5Model initialise_model(const model::ModelConfig& config, uint64_t seed) {
  model::T5Model model(config);
  model->init_weights(seed);
  if (!config.init_from.empty()) {
    load_init_from(model, config, config.init_from);
    spdlog::info("initialised from {}", config.init_from);
  }
  return model;
}

namespace {

// "step-00000100.tmp" -> true: a save that never committed.
bool is_uncommitted_checkpoint_name(const std::string& name) {
  return core::ends_with(name, ".tmp") && checkpoints::parse_checkpoint_name(name.substr(0, name.size() - 4)).has_value();
}

LoadedWeights from_checkpoint(const checkpoints::CheckpointReader& reader) {
  LoadedWeights w;
  w.source = reader.dir().string();
  w.step = reader.step();
  w.config_yaml = reader.read_text("config.yaml");
  // The model section alone: keys of other sections renamed or added since the checkpoint was
  // written must not make its weights unreadable.
  core::ConfigSource source;
  source.add_file(reader.dir() / "config.yaml");
  w.config = core::resolve<model::ModelConfig>(source.only_section("model"));
  w.state = reader.has("state.json") ? reader.read_json("state.json") : nlohmann::json();
  w.tensors = reader.load_tensors("model.safetensors");
  return w;
}

}  // namespace

LoadedWeights load_weights(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec))
    throw core::IoError("no such file or directory", dir.string(),
                        "give a checkpoint (RUN/checkpoints/step-N), a run directory or a Hugging Face directory");
  if (!fs::is_directory(dir, ec))
    throw core::IoError("not a directory", dir.string(),
                        "give a checkpoint (RUN/checkpoints/step-N), a run directory or a Hugging Face directory");
  if (fs::exists(dir / "config.json")) {
    LoadedWeights w;
    w.source = dir.string();
    w.hugging_face = true;
    auto hf = checkpoints::read_hf_directory(dir);
    w.config = model_config_from_hf(hf.config, model::ModelConfig{}, (dir / "config.json").string());
    w.config.precision = model::Precision::Fp32;
    w.hf_config = std::move(hf.config);
    w.tensors = std::move(hf.tensors);
    return w;
  }
  const std::string name = fs::absolute(dir).lexically_normal().filename().string();
  if (is_uncommitted_checkpoint_name(name))
    throw core::CheckpointError("checkpoint was never committed (a save that did not finish)", dir.string(),
                                "use a committed step-N directory, or the run directory for its newest committed one");
  if (fs::exists(dir / checkpoints::kCommitMarker) || checkpoints::parse_checkpoint_name(name)) return from_checkpoint(checkpoints::CheckpointReader::open(dir));
  if (fs::is_directory(checkpoints::checkpoints_dir(dir))) {
    auto latest = checkpoints::find_latest_committed(dir);
    if (!latest)
      throw core::CheckpointError("run directory has no committed checkpoint", dir.string(),
                                  "train until a checkpoint is saved (checkpoint.every_steps), or give a checkpoint directory");
    spdlog::info("{} is a run directory: using its newest committed checkpoint {}", dir.string(), latest->dir().string());
    return from_checkpoint(*latest);
  }
  throw core::CheckpointError("neither a checkpoint, a run directory nor a Hugging Face directory", dir.string(),
                              "a checkpoint has a COMMITTED marker, a run a checkpoints/ folder, a Hugging Face directory a config.json");
}

}  // namespace ankh::weights
