#include "trainer/weights/model_io.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <type_traits>

#include <spdlog/spdlog.h>

#include "checkpoints/checkpoint_dir.h"
#include "checkpoints/hf_export.h"
#include "checkpoints/t5_layout.h"
#include "core/config.h"
#include "core/error.h"
#include "core/files.h"
#include "core/strings.h"
#include "data/data_config.h"
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

nlohmann::json hf_t5_config(const model::ModelConfig& c, const std::vector<std::string>& task_tokens) {
  nlohmann::json config = {
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
  // Only with task tokens: a plain Ankh export stays as it was.
  if (!task_tokens.empty()) {
    nlohmann::json ids = nlohmann::json::object();
    for (std::size_t k = 0; k < task_tokens.size(); ++k) ids[task_tokens[k]] = data::kVocabSize + static_cast<int64_t>(k);
    config["task_tokens"] = ids;
  }
  return config;
}

std::vector<std::string> task_tokens_from_hf(const nlohmann::json& hf, const std::string& source) {
  if (!hf.is_object() || !hf.contains("task_tokens") || hf["task_tokens"].is_null()) return {};
  const nlohmann::json& j = hf["task_tokens"];
  const std::string hint = "\"task_tokens\" maps each task token to its id, from 144 on: {\"[S2S]\": 144, ...}";
  auto shortened = [](const nlohmann::json& v) {
    std::string text = v.dump();
    return text.size() > 80 ? text.substr(0, 77) + "..." : text;
  };
  if (!j.is_object()) throw core::CheckpointError("config.json: 'task_tokens' is not an object: " + shortened(j), source, hint);
  std::map<int64_t, std::string> by_id;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_number_integer())
      throw core::CheckpointError("config.json: task token '" + it.key() + "' has no integer id: " + shortened(it.value()), source,
                                  hint);
    const std::string problem = data::task_token_problem(it.key());
    if (!problem.empty()) throw core::CheckpointError("config.json: task token '" + it.key() + "': " + problem, source, hint);
    const int64_t id = it.value().get<int64_t>();
    if (!by_id.emplace(id, it.key()).second)
      throw core::CheckpointError(
          "config.json: task tokens '" + by_id[id] + "' and '" + it.key() + "' both have id " + std::to_string(id), source, hint);
  }
  if (static_cast<int64_t>(by_id.size()) > data::kMaxTaskTokens)
    throw core::CheckpointError("config.json: " + std::to_string(by_id.size()) + " task tokens; at most " +
                                    std::to_string(data::kMaxTaskTokens),
                                source);
  std::vector<std::string> tokens;
  for (const auto& [id, token] : by_id) {
    const int64_t expected = data::kVocabSize + static_cast<int64_t>(tokens.size());
    if (id != expected)
      throw core::CheckpointError("config.json: task token '" + token + "' has id " + std::to_string(id) + ", expected " +
                                      std::to_string(expected),
                                  source, "task tokens take the ids 144, 145, ... after Ankh's vocabulary, without gaps");
    tokens.push_back(token);
  }
  if (hf.contains("vocab_size") && hf["vocab_size"].is_number_integer() &&
      hf["vocab_size"].get<int64_t>() < data::kVocabSize + static_cast<int64_t>(tokens.size()))
    throw core::CheckpointError("config.json: " + std::to_string(tokens.size()) + " task tokens need ids up to " +
                                    std::to_string(data::kVocabSize + static_cast<int64_t>(tokens.size()) - 1) +
                                    ", but vocab_size is " + hf["vocab_size"].dump(),
                                source);
  return tokens;
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

namespace {

// How `theirs` (token -> id, as a tokenizer or a config.json numbers them) disagrees with our
// vocabulary, Ankh's 144 tokens then `task_tokens`: each of our tokens it lists at another id, and,
// when it lists tokens past Ankh's 144 itself, each of our task tokens it lacks. A vocabulary with
// nothing past 144 (Ankh's own) lacks them legitimately: model.resize_vocab adds their rows.
std::vector<std::string> vocabulary_problems(const std::map<std::string, int64_t>& theirs,
                                             const std::vector<std::string>& task_tokens) {
  const auto ours = data::vocabulary(task_tokens);
  std::vector<std::string> problems;
  for (std::size_t id = 0; id < ours.size(); ++id) {
    auto it = theirs.find(ours[id]);
    if (it == theirs.end() || it->second == static_cast<int64_t>(id)) continue;
    if (static_cast<int64_t>(id) < data::kVocabSize)
      problems.push_back("'" + ours[id] + "' is " + std::to_string(it->second) + ", ankh's is " + std::to_string(id));
    else
      problems.push_back("task token '" + ours[id] + "' is " + std::to_string(it->second) + ", ours is " + std::to_string(id));
  }
  std::vector<std::string> extra;  // their tokens past Ankh's 144, e.g. "'[FOO]' 144"
  std::map<int64_t, std::string> by_id;
  for (const auto& [token, id] : theirs)
    if (id >= data::kVocabSize) by_id.emplace(id, token);
  for (const auto& [id, token] : by_id) {
    if (extra.size() == 5) {  // enough to recognise another model's tokens
      extra.push_back("...");
      break;
    }
    extra.push_back("'" + token + "' " + std::to_string(id));
  }
  if (!extra.empty())
    for (std::size_t k = 0; k < task_tokens.size(); ++k)
      if (!theirs.count(task_tokens[k]))
        problems.push_back("task token '" + task_tokens[k] + "' (ours is " +
                           std::to_string(data::kVocabSize + static_cast<int64_t>(k)) +
                           ") is missing, while it has other tokens past Ankh's 144: " + core::join(extra, ", "));
  return problems;
}

// `subject` ("the tokenizer") numbers tokens otherwise: CheckpointError with the first problems.
[[noreturn]] void throw_vocabulary_problems(const std::string& subject, std::vector<std::string> problems,
                                            const std::vector<std::string>& task_tokens, const std::string& where) {
  if (problems.size() > 5) {
    problems.resize(5);
    problems.push_back("...");
  }
  const std::string hint =
      task_tokens.empty()
          ? "ankh uses Ankh's 144-token vocabulary (docs/architecture.md, \"Vocabulary\"); this model was trained on another one"
          : "ankh's vocabulary is Ankh's 144 tokens, then the objective's task tokens in order of first use (here " +
                core::join(task_tokens, ", ") + " from 144 on); list the tasks so that their prefix tokens come in the model's order";
  throw core::CheckpointError(subject + " numbers tokens differently from ankh's vocabulary: " + core::join(problems, "; "), where, hint);
}

}  // namespace

void check_hf_vocabulary(const fs::path& dir, const std::vector<std::string>& task_tokens) {
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
  const auto problems = vocabulary_problems(ids, task_tokens);
  if (!problems.empty()) throw_vocabulary_problems("the tokenizer", problems, task_tokens, file.string());
}

namespace {

// `t` [N, d] grown to [rows, d] in fp32: its N rows, then rows - N copies of their mean. A new
// token starts as an "average" token (its embedding and its logits like those of the existing
// tokens on average, neither dominating nor vanishing) and is learnt from there: Hewitt (2021),
// "Initializing new word embeddings for pretrained language models", which transformers'
// resize_token_embeddings follows (it samples around that mean with 1e-9 x the rows' covariance;
// the mean itself is deterministic). Summed in float64 and rounded once, so the thread count's
// summation order does not show.
torch::Tensor grow_rows(const torch::Tensor& t, int64_t rows) {
  const torch::Tensor mean = t.to(torch::kFloat64).mean(0, /*keepdim=*/true).to(torch::kFloat32);
  return torch::cat({t.to(torch::kFloat32), mean.expand({rows - t.size(0), t.size(1)})}, 0);
}

}  // namespace

void load_init_from(model::T5Model& model, const model::ModelConfig& config, const fs::path& dir,
                    const std::vector<std::string>& task_tokens) {
  const auto hf = checkpoints::read_hf_directory(dir);
  const std::string config_json = (dir / "config.json").string();
  // Their vocabulary size first: with resize_vocab it may be smaller than ours, and every other
  // key must match all the same.
  const int64_t rows = model_config_from_hf(hf.config, config, config_json).vocab_size;
  const std::string theirs_text = "the directory's vocabulary has " + std::to_string(rows) + " tokens (config.json vocab_size)";
  if (rows > config.vocab_size)
    throw core::CheckpointError(theirs_text + ", more than model.vocab_size " + std::to_string(config.vocab_size) +
                                    ": a vocabulary cannot shrink",
                                dir.string(), "set model.vocab_size: " + std::to_string(rows));
  const bool grow = rows < config.vocab_size;
  if (grow && !config.resize_vocab)
    throw core::CheckpointError(theirs_text + ", model.vocab_size is " + std::to_string(config.vocab_size) +
                                    " (task tokens add rows after Ankh's 144)",
                                dir.string(),
                                "set model.resize_vocab: true to initialise the new rows (docs/model.md, \"Growing the vocabulary\")");
  model::ModelConfig expected = config;
  expected.vocab_size = rows;
  check_hf_architecture(hf.config, expected, config_json);
  check_hf_vocabulary(dir, task_tokens);
  std::map<std::string, int64_t> listed;  // config.json's own task tokens must agree with ours too
  const auto theirs = task_tokens_from_hf(hf.config, config_json);
  for (std::size_t k = 0; k < theirs.size(); ++k) listed[theirs[k]] = data::kVocabSize + static_cast<int64_t>(k);
  const auto problems = vocabulary_problems(listed, task_tokens);
  if (!problems.empty()) throw_vocabulary_problems("config.json's task_tokens", problems, task_tokens, config_json);

  checkpoints::NamedTensors tensors = hf.tensors;  // the same tensors; only grown ones are replaced
  if (grow) {
    for (const char* name : {"shared.weight", "lm_head.weight"}) {
      auto it = tensors.find(name);
      // Anything else (missing, another shape) is named by load_parameters below.
      if (it != tensors.end() && it->second.dim() == 2 && it->second.size(0) == rows)
        it->second = grow_rows(it->second, config.vocab_size);
    }
    spdlog::info("model.resize_vocab: {} rows from {}, rows {}..{} start as their mean", rows, dir.string(), rows,
                 config.vocab_size - 1);
  }
  load_parameters(model, tensors, dir.string());
}

model::T5Model initialise_model(const model::ModelConfig& config, uint64_t seed, const std::vector<std::string>& task_tokens) {
  model::T5Model model(config);
  model->init_weights(seed);
  if (!config.init_from.empty()) {
    load_init_from(model, config, config.init_from, task_tokens);
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
  // The task tokens, from the objective section (absent in a config without one: none).
  try {
    w.objective = core::resolve<data::ObjectiveConfig>(source.only_section("objective"));
    w.task_tokens = w.objective.task_tokens();
  } catch (const core::ConfigError& e) {
    throw core::CheckpointError("its objective section does not parse, so its task tokens are unknown: " + e.describe(),
                                (reader.dir() / "config.yaml").string(), "a config.yaml that ankh wrote parses; was it edited?");
  }
  if (const core::Setting* m = source.find("data.max_length")) w.max_length = core::parse_int(m->value).value_or(0);
  const int64_t needed = data::kVocabSize + static_cast<int64_t>(w.task_tokens.size());
  if (needed > w.config.vocab_size)
    throw core::CheckpointError(std::to_string(w.task_tokens.size()) + " task tokens need a model.vocab_size of at least " +
                                    std::to_string(needed) + ", it is " + std::to_string(w.config.vocab_size),
                                (reader.dir() / "config.yaml").string());
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
    w.task_tokens = task_tokens_from_hf(hf.config, (dir / "config.json").string());
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
