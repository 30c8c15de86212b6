#include "checkpoints/hf_export.h"

#include <algorithm>
#include <map>
#include <sstream>

#include <spdlog/spdlog.h>

#include "checkpoints/t5_layout.h"
#include "core/error.h"
#include "core/files.h"
#include "core/strings.h"

namespace ankh::checkpoints {

namespace fs = std::filesystem;
using core::CheckpointError;

const core::Choices<torch::ScalarType>& export_dtypes() {
  static const core::Choices<torch::ScalarType> table{
      {torch::kFloat32, "fp32"}, {torch::kBFloat16, "bf16"}, {torch::kFloat16, "fp16"}};
  return table;
}

namespace {

bool keep_for_encoder(const std::string& name) { return core::starts_with(name, "shared.") || core::starts_with(name, "encoder."); }

const char* dtype_name(torch::ScalarType dtype) {
  return dtype == torch::kBFloat16 ? "bfloat16" : dtype == torch::kFloat16 ? "float16" : "float32";
}

std::string json_value_text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

nlohmann::json export_config(const nlohmann::json& t5_config, const HfExportOptions& options) {
  nlohmann::json config = t5_config;
  config["architectures"] = {options.encoder_only ? "T5EncoderModel" : "T5ForConditionalGeneration"};
  config["torch_dtype"] = dtype_name(options.dtype);
  if (!config.contains("model_type")) config["model_type"] = "t5";
  return config;
}

void fail_on_problems(const std::vector<std::string>& problems, const std::string& where, const std::string& hint) {
  if (problems.empty()) return;
  std::string what = std::to_string(problems.size()) + " tensor(s) do not match the T5 layout of config.json:";
  for (const auto& p : problems) what += "\n    - " + p;
  throw CheckpointError(what, where, hint);
}

// config.json's "task_tokens" (token -> id) and the tokenizer's task tokens must be the same
// tokens at the same ids: the two files describe one vocabulary.
void check_task_tokens(const nlohmann::json& t5_config, const TokenizerSpec& tokenizer, const std::string& where) {
  nlohmann::json expected = nlohmann::json::object();
  for (const auto& t : tokenizer.task_tokens)
    expected[t] = std::find(tokenizer.tokens.begin(), tokenizer.tokens.end(), t) - tokenizer.tokens.begin();
  const nlohmann::json given = t5_config.contains("task_tokens") ? t5_config["task_tokens"] : nlohmann::json::object();
  if (given != expected)
    throw CheckpointError("config.json's task_tokens " + given.dump() + " differ from the tokenizer's " + expected.dump(), where,
                          "build both from the same list of task tokens");
}

}  // namespace

std::string model_card_markdown(const nlohmann::json& t5_config, const HfModelCard& card, const HfExportOptions& options) {
  std::ostringstream md;
  const std::string model_class = options.encoder_only ? "T5EncoderModel" : "T5ForConditionalGeneration";
  md << "---\nlibrary_name: transformers\ntags:\n- protein-language-model\n- t5\n- ankh\n---\n\n";
  md << "# " << card.name << "\n\n";
  md << "An Ankh-style protein language model (T5 v1.1 encoder–decoder over amino-acid characters), pre-trained with "
        "ankh and exported as `"
     << model_class << "`" << (options.encoder_only ? " (encoder only)" : "") << " in "
     << dtype_name(options.dtype) << ".\n\n";
  md << "## Usage\n\n```python\nfrom transformers import AutoTokenizer, T5EncoderModel\n\n"
        "tokenizer = AutoTokenizer.from_pretrained(\"PATH\")\nmodel = T5EncoderModel.from_pretrained(\"PATH\")\n"
        "batch = tokenizer([\"MKTAYIAKQRQISFVKSHFSRQ\"], return_tensors=\"pt\")  # </s> is appended\n"
        "embeddings = model(**batch).last_hidden_state  # [batch, length + 1, d_model]\n```\n\n"
        "Each residue is one token (whitespace is ignored); `<extra_id_0>` … are the sentinels of the span-denoising "
        "objective.\n\n";
  if (t5_config.contains("task_tokens") && t5_config["task_tokens"].is_object() && !t5_config["task_tokens"].empty()) {
    // Listed by id (a JSON object is ordered by key).
    std::map<int64_t, std::string> by_id;
    for (auto it = t5_config["task_tokens"].begin(); it != t5_config["task_tokens"].end(); ++it)
      if (it.value().is_number_integer()) by_id[it.value().get<int64_t>()] = it.key();
    std::string list;
    for (const auto& [id, token] : by_id) list += std::string(list.empty() ? "" : ", ") + "`" + token + "` (" + std::to_string(id) + ")";
    md << "Task tokens, which the training objective prepended to the encoder input of their tasks: " << list
       << ". The tokenizer matches them whole (`tokenizer([\"" << by_id.begin()->second
       << "MKTAYIAKQR\"])` gives the task token, then one token per residue).\n\n";
  }
  md << "## Architecture\n\n| key | value |\n|---|---|\n";
  for (const char* key : {"d_model", "num_heads", "d_kv", "d_ff", "num_layers", "num_decoder_layers", "feed_forward_proj",
                          "relative_attention_num_buckets", "relative_attention_max_distance", "vocab_size", "tie_word_embeddings"})
    if (t5_config.contains(key)) md << "| " << key << " | " << json_value_text(t5_config[key]) << " |\n";
  md << "\n## Training\n\n";
  if (!card.source.empty()) md << "- exported from: `" << card.source << "`\n";
  if (card.step >= 0) md << "- training step: " << core::format_count(card.step) << "\n";
  if (card.metrics.is_object() && !card.metrics.empty()) {
    md << "\n### Final metrics\n\n| metric | value |\n|---|---|\n";
    for (auto it = card.metrics.begin(); it != card.metrics.end(); ++it)
      md << "| " << it.key() << " | " << json_value_text(it.value()) << " |\n";
  }
  if (!card.training_config_yaml.empty()) md << "\n### Training configuration\n\n```yaml\n" << card.training_config_yaml
                                             << (core::ends_with(card.training_config_yaml, "\n") ? "" : "\n") << "```\n";
  return md.str();
}

fs::path write_hf_directory(const fs::path& out, const nlohmann::json& t5_config, const NamedTensors& tensors,
                            const TokenizerSpec& tokenizer, const HfModelCard& card, const HfExportOptions& options) {
  if (options.dtype != torch::kFloat32 && options.dtype != torch::kBFloat16 && options.dtype != torch::kFloat16)
    throw CheckpointError("export dtype must be float32, bfloat16 or float16", out.string());
  if (fs::exists(out) && !options.overwrite)
    throw CheckpointError("output directory already exists", out.string(), "choose another --output or remove it");

  // Everything is checked before anything is written.
  NamedTensors selected;
  for (const auto& [name, t] : tensors) {
    if (options.encoder_only && !keep_for_encoder(name)) continue;
    selected.emplace(name, t.is_floating_point() ? t.detach().to(torch::kCPU, options.dtype) : t);
  }
  fail_on_problems(check_t5_tensors(t5_layout(t5_config, options.encoder_only), shapes_of(selected)), out.string(),
                   "the tensors must carry Hugging Face T5 names for this config");
  const auto vocab_size = t5_config.at("vocab_size").get<int64_t>();
  if (static_cast<int64_t>(tokenizer.tokens.size()) > vocab_size)
    throw CheckpointError("the tokenizer has " + std::to_string(tokenizer.tokens.size()) + " tokens but vocab_size is " +
                              std::to_string(vocab_size),
                          out.string());
  validate(tokenizer);
  check_task_tokens(t5_config, tokenizer, out.string());

  const fs::path tmp = out.string() + ".tmp";
  std::error_code ec;
  fs::remove_all(tmp, ec);  // a leftover of an interrupted export
  fs::create_directories(tmp, ec);
  if (ec) throw core::IoError("cannot create directory: " + ec.message(), tmp.string());
  try {
    core::write_file_atomic(tmp / "config.json", export_config(t5_config, options).dump(2) + "\n");
    write_safetensors(tmp / "model.safetensors", selected, {{"format", "pt"}});  // transformers checks "format"
    core::write_file_atomic(tmp / "tokenizer.json", tokenizer_json(tokenizer).dump(2) + "\n");
    core::write_file_atomic(tmp / "tokenizer_config.json", tokenizer_config_json(tokenizer).dump(2) + "\n");
    core::write_file_atomic(tmp / "special_tokens_map.json", special_tokens_map_json(tokenizer).dump(2) + "\n");
    core::write_file_atomic(tmp / "README.md", model_card_markdown(t5_config, card, options));
    core::fsync_path(tmp);
    if (fs::exists(out)) {  // overwrite: the old directory goes only once the new one is complete
      const fs::path old = out.string() + ".old";
      fs::remove_all(old, ec);
      core::rename_durable(out, old);
      core::rename_durable(tmp, out);
      fs::remove_all(old, ec);
    } else {
      core::rename_durable(tmp, out);
    }
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  spdlog::info("exported {} tensors ({}) to {}", selected.size(), options.encoder_only ? "encoder only" : "encoder-decoder",
               out.string());
  return out;
}

HfModel read_hf_directory(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw CheckpointError("no such directory", dir.string(), "give a Hugging Face model directory");
  const fs::path config_path = dir / "config.json";
  if (!fs::exists(config_path)) throw CheckpointError("no config.json", dir.string(), "not a Hugging Face model directory");
  HfModel model;
  try {
    model.config = nlohmann::json::parse(core::read_file(config_path));
  } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for a number past a double (1e606)
    throw CheckpointError(std::string("not valid JSON: ") + e.what(), config_path.string());
  }

  const fs::path single = dir / "model.safetensors";
  const fs::path index_path = dir / "model.safetensors.index.json";
  if (fs::exists(single)) {
    model.tensors = SafetensorsReader(single).load_all();
  } else if (fs::exists(index_path)) {
    nlohmann::json index;
    try {
      index = nlohmann::json::parse(core::read_file(index_path));
    } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for a number past a double (1e606)
      throw CheckpointError(std::string("not valid JSON: ") + e.what(), index_path.string());
    }
    if (!index.contains("weight_map") || !index["weight_map"].is_object())
      throw CheckpointError("no weight_map object", index_path.string());
    std::map<std::string, std::vector<std::string>> by_shard;
    for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
      if (!it.value().is_string()) throw CheckpointError("weight_map entry of '" + it.key() + "' is not a file name", index_path.string());
      const std::string shard = it.value().get<std::string>();
      if (fs::path(shard).filename().string() != shard)
        throw CheckpointError("weight_map names a file outside the directory: '" + shard + "'", index_path.string());
      by_shard[shard].push_back(it.key());
    }
    for (const auto& [shard, names] : by_shard) {
      SafetensorsReader reader(dir / shard);
      for (const auto& name : names) model.tensors.emplace(name, reader.load(name));  // names a missing tensor clearly
    }
  } else if (fs::exists(dir / "pytorch_model.bin")) {
    throw CheckpointError("only pytorch_model.bin here: ankh reads safetensors weights", dir.string(),
                          "convert once: python -c \"from transformers import T5EncoderModel as M; "
                          "M.from_pretrained('DIR').save_pretrained('DIR', safe_serialization=True)\" "
                          "(use T5ForConditionalGeneration for the whole model)");
  } else {
    throw CheckpointError("no model.safetensors or model.safetensors.index.json", dir.string(),
                          "not a Hugging Face model directory with safetensors weights");
  }
  return model;
}

}  // namespace ankh::checkpoints
