// Hugging Face export and import: the directory passes the independent Python checker
// (scripts/check_hf_export.py), round trips through read_hf_directory, and bad input is refused
// before anything is written.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "checkpoints/hf_export.h"
#include "checkpoints/t5_layout.h"
#include "core/error.h"
#include "core/files.h"
#include "data/vocab.h"
#include "tests/support/test_support.h"

namespace ankh::checkpoints {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;
using testing::error_of;

nlohmann::json small_config() {
  return {{"model_type", "t5"},
          {"vocab_size", 144},
          {"d_model", 16},
          {"d_kv", 4},
          {"d_ff", 24},
          {"num_heads", 2},
          {"num_layers", 2},
          {"num_decoder_layers", 1},
          {"relative_attention_num_buckets", 8},
          {"relative_attention_max_distance", 16},
          {"feed_forward_proj", "gated-gelu"},
          {"is_gated_act", true},
          {"dense_act_fn", "gelu_new"},
          {"tie_word_embeddings", false},
          {"is_encoder_decoder", true},
          {"layer_norm_epsilon", 1e-6},
          {"dropout_rate", 0.0},
          {"pad_token_id", 0},
          {"eos_token_id", 1},
          {"decoder_start_token_id", 0}};
}

NamedTensors tensors_for(const nlohmann::json& config) {
  torch::manual_seed(3);
  NamedTensors out;
  for (const auto& [name, shape] : t5_layout(config, false).required) out[name] = torch::randn(shape);
  return out;
}

TokenizerSpec ankh_tokenizer() { return {data::vocabulary()}; }

HfModelCard card() {
  HfModelCard c;
  c.name = "ankh-test";
  c.source = "runs/test/checkpoints/step-00000100";
  c.step = 100;
  c.training_config_yaml = "model:\n  d_model: 16\n";
  c.metrics = {{"valid_loss", 2.5}, {"tokens_seen", 123456}};
  return c;
}



TEST(CkptT5Layout, NamesAndShapesOfHuggingFaceT5) {
  const auto layout = t5_layout(small_config(), false);
  EXPECT_EQ(layout.required.at("shared.weight"), (Shape{144, 16}));
  EXPECT_EQ(layout.required.at("encoder.block.0.layer.0.SelfAttention.q.weight"), (Shape{8, 16}));
  EXPECT_EQ(layout.required.at("encoder.block.1.layer.0.SelfAttention.o.weight"), (Shape{16, 8}));
  EXPECT_EQ(layout.required.at("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"), (Shape{8, 2}));
  EXPECT_EQ(layout.required.count("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"), 0u);
  EXPECT_EQ(layout.required.at("encoder.block.1.layer.1.DenseReluDense.wi_1.weight"), (Shape{24, 16}));
  EXPECT_EQ(layout.required.at("decoder.block.0.layer.1.EncDecAttention.k.weight"), (Shape{8, 16}));
  EXPECT_EQ(layout.required.at("decoder.block.0.layer.2.DenseReluDense.wo.weight"), (Shape{16, 24}));
  EXPECT_EQ(layout.required.at("decoder.final_layer_norm.weight"), (Shape{16}));
  EXPECT_EQ(layout.required.at("lm_head.weight"), (Shape{144, 16}));
  EXPECT_EQ(layout.optional.count("encoder.embed_tokens.weight"), 1u);
  // 1 shared + encoder 2 × 9 + 2 + rel bias + final; decoder 1 × 14 + rel bias + final; lm_head.
  EXPECT_EQ(layout.required.size(), 1u + 18 + 1 + 1 + 14 + 1 + 1 + 1);
  const auto enc = t5_layout(small_config(), true);
  EXPECT_EQ(enc.required.count("lm_head.weight"), 0u);
  EXPECT_EQ(enc.required.size(), 21u);
  auto relu = small_config();
  relu["feed_forward_proj"] = "relu";
  EXPECT_EQ(t5_layout(relu, true).required.count("encoder.block.0.layer.1.DenseReluDense.wi.weight"), 1u);
  auto broken = small_config();
  broken.erase("d_kv");
  EXPECT_NE(error_of([&] { t5_layout(broken, false); }).find("T5 config has no 'd_kv'"), std::string::npos);
}

TEST(CkptHfExport, FullModelPassesTheCheckerAndRoundTrips) {
  ScratchDir scratch;
  const fs::path out = scratch / "hf";
  const NamedTensors tensors = tensors_for(small_config());
  write_hf_directory(out, small_config(), tensors, ankh_tokenizer(), card());
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                        "README.md"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  EXPECT_FALSE(fs::exists(scratch / "hf.tmp"));

  const auto config = nlohmann::json::parse(core::read_file(out / "config.json"));
  EXPECT_EQ(config["architectures"], nlohmann::json::array({"T5ForConditionalGeneration"}));
  EXPECT_EQ(config["torch_dtype"], "float32");
  EXPECT_EQ(config["decoder_start_token_id"], 0);
  EXPECT_EQ(SafetensorsReader(out / "model.safetensors").metadata().at("format"), "pt");

  const std::string readme = core::read_file(out / "README.md");
  EXPECT_NE(readme.find("| valid_loss | 2.5 |"), std::string::npos) << readme;
  EXPECT_NE(readme.find("d_model: 16"), std::string::npos);
  EXPECT_NE(readme.find("step-00000100"), std::string::npos);

  const HfModel back = read_hf_directory(out);
  EXPECT_EQ(back.config["d_model"], 16);
  ASSERT_EQ(back.tensors.size(), tensors.size());
  for (const auto& [name, t] : tensors) EXPECT_TRUE(torch::equal(back.tensors.at(name), t)) << name;

  if (!testing::python_has_numpy()) GTEST_SKIP() << "/usr/bin/python3 has no numpy";
  const auto result = testing::check_hf_export(out);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("OK:"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("T5ForConditionalGeneration"), std::string::npos) << result.output;
}

TEST(CkptHfExport, EncoderOnlyBf16) {
  ScratchDir scratch;
  const fs::path out = scratch / "enc";
  HfExportOptions options;
  options.encoder_only = true;
  options.dtype = *export_dtypes().parse("bf16");
  const NamedTensors tensors = tensors_for(small_config());
  write_hf_directory(out, small_config(), tensors, ankh_tokenizer(), card(), options);
  SafetensorsReader reader(out / "model.safetensors");
  for (const auto& name : reader.names()) {
    EXPECT_TRUE(name.rfind("shared.", 0) == 0 || name.rfind("encoder.", 0) == 0) << name;
    EXPECT_EQ(reader.info(name).dtype_name, "BF16") << name;
  }
  EXPECT_EQ(reader.names().size(), 21u);
  EXPECT_TRUE(torch::equal(reader.load("shared.weight"), tensors.at("shared.weight").to(torch::kBFloat16)));
  EXPECT_EQ(nlohmann::json::parse(core::read_file(out / "config.json"))["architectures"][0], "T5EncoderModel");
  EXPECT_EQ(export_dtypes().parse("fp16"), torch::kFloat16);
  EXPECT_FALSE(export_dtypes().parse("fp8"));

  if (!testing::python_has_numpy()) GTEST_SKIP() << "/usr/bin/python3 has no numpy";
  const auto result = testing::check_hf_export(out);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("T5EncoderModel"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("BF16"), std::string::npos) << result.output;
}

TEST(CkptHfExport, TokenizerFiles) {
  ScratchDir scratch;
  write_hf_directory(scratch / "hf", small_config(), tensors_for(small_config()), ankh_tokenizer(), card());
  const auto tok = nlohmann::json::parse(core::read_file(scratch / "hf" / "tokenizer.json"));
  EXPECT_EQ(tok["model"]["type"], "WordLevel");
  EXPECT_EQ(tok["model"]["vocab"].size(), 144u);
  EXPECT_EQ(tok["model"]["vocab"]["A"], 3);
  EXPECT_EQ(tok["model"]["vocab"]["<extra_id_0>"], 143);
  EXPECT_EQ(tok["model"]["vocab"]["<extra_id_115>"], 28);
  EXPECT_EQ(tok["added_tokens"].size(), 3u + 116u);
  EXPECT_EQ(tok["post_processor"]["special_tokens"]["</s>"]["ids"][0], 1);
  EXPECT_EQ(tok["decoder"]["type"], "Fuse");
  const auto& lower = tok["normalizer"]["normalizers"];
  ASSERT_EQ(lower.size(), 25u) << "one per residue letter";
  EXPECT_EQ(lower[0]["pattern"]["String"], "a");
  EXPECT_EQ(lower[0]["content"], "A");
  const auto map = nlohmann::json::parse(core::read_file(scratch / "hf" / "special_tokens_map.json"));
  EXPECT_EQ(map["eos_token"], "</s>");
  EXPECT_EQ(map["additional_special_tokens"][0], "<extra_id_0>");
  EXPECT_EQ(map["additional_special_tokens"][115], "<extra_id_115>");
  const auto cfg = nlohmann::json::parse(core::read_file(scratch / "hf" / "tokenizer_config.json"));
  EXPECT_EQ(cfg["tokenizer_class"], "PreTrainedTokenizerFast");

  TokenizerSpec bad{{"<pad>", "</s>", "<unk>", "AB"}};
  EXPECT_NE(error_of([&] { validate(bad); }).find("neither one character"), std::string::npos);
  bad.tokens = {"<pad>", "</s>", "A", "A"};
  EXPECT_NE(error_of([&] { validate(bad); }).find("appears twice"), std::string::npos);
  bad.tokens = {"<pad>", "</s>", "A"};
  EXPECT_NE(error_of([&] { validate(bad); }).find("'<unk>' is not in the vocabulary"), std::string::npos);
}

// Task tokens ("[S2S]": multi-character, not <...>) are special added tokens after the sentinels.
TEST(CkptHfExport, TaskTokensAreSpecialAddedTokens) {
  TokenizerSpec spec{data::vocabulary({"[NLU]", "[S2S]"})};
  EXPECT_NE(error_of([&] { validate(spec); }).find("'[NLU]' (id 144) is neither one character, <special> nor a task token"),
            std::string::npos);
  spec.task_tokens = {"[NLU]", "[S2S]"};
  const auto tok = tokenizer_json(spec);
  EXPECT_EQ(tok["model"]["vocab"]["[S2S]"], 145);
  ASSERT_EQ(tok["added_tokens"].size(), 3u + 116u + 2u);
  const auto& last = tok["added_tokens"].back();
  EXPECT_EQ(last["id"], 145);
  EXPECT_EQ(last["content"], "[S2S]");
  EXPECT_EQ(last["special"], true);
  EXPECT_EQ(last["normalized"], false);  // matched on the raw text, before lower case is raised
  const auto map = special_tokens_map_json(spec);
  ASSERT_EQ(map["additional_special_tokens"].size(), 118u);
  EXPECT_EQ(map["additional_special_tokens"][115], "<extra_id_115>");
  EXPECT_EQ(map["additional_special_tokens"][116], "[NLU]");
  EXPECT_EQ(map["additional_special_tokens"][117], "[S2S]");
  EXPECT_EQ(tokenizer_config_json(spec)["additional_special_tokens"], map["additional_special_tokens"]);

  TokenizerSpec bad = spec;
  bad.task_tokens.push_back("[ABC]");
  EXPECT_NE(error_of([&] { validate(bad); }).find("task token '[ABC]' is not in the vocabulary"), std::string::npos);
  bad = TokenizerSpec{{"<pad>", "</s>", "<unk>", "!"}};
  bad.task_tokens = {"!"};
  EXPECT_NE(error_of([&] { validate(bad); }).find("fewer than two characters"), std::string::npos);

  // config.json lists them (token -> id), and must list exactly the tokenizer's.
  ScratchDir scratch;
  auto config = small_config();
  config["vocab_size"] = 160;
  const NamedTensors tensors = tensors_for(config);
  std::string e = error_of([&] { write_hf_directory(scratch / "hf", config, tensors, spec, card()); });
  EXPECT_NE(e.find("config.json's task_tokens {} differ from the tokenizer's {\"[NLU]\":144,\"[S2S]\":145}"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(scratch / "hf"));
  config["task_tokens"] = {{"[NLU]", 144}, {"[S2S]", 145}};
  write_hf_directory(scratch / "hf", config, tensors, spec, card());
  EXPECT_EQ(nlohmann::json::parse(core::read_file(scratch / "hf" / "config.json"))["task_tokens"]["[S2S]"], 145);
  const std::string readme = core::read_file(scratch / "hf" / "README.md");
  EXPECT_NE(readme.find("`[NLU]` (144), `[S2S]` (145)"), std::string::npos) << readme;
  if (!testing::python_has_numpy()) GTEST_SKIP() << "/usr/bin/python3 has no numpy";
  const auto result = testing::check_hf_export(scratch / "hf");
  EXPECT_EQ(result.exit_code, 0) << result.output;
}

TEST(CkptHfExport, WrongTensorsAreListedAndNothingIsWritten) {
  ScratchDir scratch;
  NamedTensors tensors = tensors_for(small_config());
  tensors.erase("encoder.final_layer_norm.weight");
  tensors["encoder.block.0.layer.0.SelfAttention.q.weight"] = torch::zeros({8, 15});
  tensors["encoder.extra.weight"] = torch::zeros({3});
  const std::string msg = error_of([&] { write_hf_directory(scratch / "hf", small_config(), tensors, ankh_tokenizer(), card()); });
  EXPECT_NE(msg.find("3 tensor(s) do not match"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing encoder.final_layer_norm.weight [16]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("wrong shape encoder.block.0.layer.0.SelfAttention.q.weight: [8, 15], expected [8, 16]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unexpected encoder.extra.weight [3]"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(scratch / "hf"));
  EXPECT_FALSE(fs::exists(scratch / "hf.tmp"));
}

TEST(CkptHfExport, ExistingOutputNeedsOverwrite) {
  ScratchDir scratch;
  const fs::path out = scratch / "hf";
  write_hf_directory(out, small_config(), tensors_for(small_config()), ankh_tokenizer(), card());
  EXPECT_NE(error_of([&] { write_hf_directory(out, small_config(), tensors_for(small_config()), ankh_tokenizer(), card()); })
                .find("already exists"),
            std::string::npos);
  HfExportOptions options;
  options.overwrite = true;
  options.encoder_only = true;
  write_hf_directory(out, small_config(), tensors_for(small_config()), ankh_tokenizer(), card(), options);
  EXPECT_EQ(SafetensorsReader(out / "model.safetensors").names().size(), 21u);
  EXPECT_FALSE(fs::exists(scratch / "hf.old"));
}

TEST(CkptHfImport, ShardedIndexAndClearErrors) {
  ScratchDir scratch;
  const fs::path dir = scratch / "sharded";
  fs::create_directories(dir);
  core::write_file_atomic(dir / "config.json", small_config().dump());
  write_safetensors(dir / "model-00001-of-00002.safetensors", {{"a", torch::ones({2})}});
  write_safetensors(dir / "model-00002-of-00002.safetensors", {{"b", torch::zeros({3})}});
  core::write_file_atomic(dir / "model.safetensors.index.json",
                          R"({"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                                                            "b": "model-00002-of-00002.safetensors"}})");
  const HfModel m = read_hf_directory(dir);
  EXPECT_EQ(m.tensors.size(), 2u);
  EXPECT_TRUE(torch::equal(m.tensors.at("b"), torch::zeros({3})));

  core::write_file_atomic(dir / "model.safetensors.index.json", R"({"weight_map": {"c": "model-00001-of-00002.safetensors"}})");
  EXPECT_NE(error_of([&] { read_hf_directory(dir); }).find("no tensor 'c'"), std::string::npos);

  const fs::path bin = scratch / "bin";
  fs::create_directories(bin);
  core::write_file_atomic(bin / "config.json", "{}");
  core::write_file_atomic(bin / "pytorch_model.bin", "pickle");
  EXPECT_NE(error_of([&] { read_hf_directory(bin); }).find("safe_serialization=True"), std::string::npos);
  EXPECT_NE(error_of([&] { read_hf_directory(scratch / "nope"); }).find("no such directory"), std::string::npos);
}

TEST(CkptHfCheckScript, ReportsEveryMissingUnexpectedAndMisshapedTensor) {
  if (!testing::python_has_numpy()) GTEST_SKIP() << "/usr/bin/python3 has no numpy";
  ScratchDir scratch;
  const fs::path out = scratch / "hf";
  write_hf_directory(out, small_config(), tensors_for(small_config()), ankh_tokenizer(), card());
  // Damage the weights behind the exporter's back.
  NamedTensors tensors = SafetensorsReader(out / "model.safetensors").load_all();
  tensors.erase("decoder.final_layer_norm.weight");
  tensors["lm_head.weight"] = torch::zeros({144, 15});
  tensors["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"][0][0] = std::nanf("");
  tensors["encoder.block.5.layer.0.layer_norm.weight"] = torch::ones({16});
  write_safetensors(out / "model.safetensors", tensors, {{"format", "pt"}});
  const auto result = testing::check_hf_export(out);
  EXPECT_EQ(result.exit_code, 1) << result.output;
  for (const char* expected : {"FAIL", "missing decoder.final_layer_norm.weight [16]",
                               "wrong shape lm_head.weight: [144, 15], expected [144, 16]",
                               "non-finite values in decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                               "unexpected encoder.block.5.layer.0.layer_norm.weight [16]"})
    EXPECT_NE(result.output.find(expected), std::string::npos) << expected << "\n" << result.output;

  // A truncated file is reported, not a Python traceback.
  fs::resize_file(out / "model.safetensors", fs::file_size(out / "model.safetensors") - 100);
  const auto truncated = testing::check_hf_export(out);
  EXPECT_EQ(truncated.exit_code, 1) << truncated.output;
  EXPECT_EQ(truncated.output.find("Traceback"), std::string::npos) << truncated.output;
}

}  // namespace
}  // namespace ankh::checkpoints
