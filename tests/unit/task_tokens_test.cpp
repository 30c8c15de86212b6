// Task tokens in the vocabulary (issue 17): an objective mixture whose tasks prepend "[NLU]" and
// "[S2S]" trains a 160-row model (144 + 2 rounded up to 16); `ankh export` writes the tokens into
// tokenizer.json (special added tokens 144, 145) and config.json ("task_tokens"), and
// `model.init_from` of that export with the same objective reproduces the weights. A 144-token
// export grows into the 160-row model only with model.resize_vocab (new rows = the mean of the
// copied ones); a larger vocabulary, or a tokenizer that numbers a task token otherwise, is refused.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "checkpoints/checkpoint_dir.h"
#include "checkpoints/hf_export.h"
#include "core/error.h"
#include "core/files.h"
#include "data/data_config.h"
#include "data/vocab.h"
#include "tests/support/test_support.h"
#include "trainer/run_config.h"
#include "trainer/weights/exporter.h"
#include "trainer/weights/hf_verify.h"
#include "trainer/weights/model_io.h"

namespace ankh::weights {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::ScratchDir;
using trainer::RunConfig;

const std::vector<std::string> kTokens = {"[NLU]", "[S2S]"};

data::TaskConfig task(data::ObjectiveKind kind, const std::string& prefix_token) {
  data::TaskConfig t;
  t.kind = kind;
  t.prefix_token = prefix_token;
  return t;
}

// The tiny run with a two-task mixture, its vocabulary grown as resolve_run_config grows it.
RunConfig mixture_config(const fs::path& run_dir, const std::vector<std::string>& extra = {},
                         const std::vector<std::string>& tokens = kTokens) {
  RunConfig config = testing::tiny_run_config(run_dir, extra);
  config.objective.mixture = {task(data::ObjectiveKind::Ankh, tokens[0]), task(data::ObjectiveKind::T5Span, tokens[1])};
  config.model.vocab_size = data::vocab_size_for(config.objective.task_tokens().size());
  return config;
}

model::T5Model trained_model(const RunConfig& config, uint64_t seed) {
  model::T5Model m(config.model);
  m->init_weights(seed);
  torch::NoGradGuard no_grad;  // every parameter moved off its init
  torch::manual_seed(static_cast<int64_t>(seed));
  for (auto& p : m->parameters()) p.add_(torch::randn_like(p) * 0.05);
  return m;
}

fs::path save_checkpoint(const RunConfig& config, model::T5Model& m, int64_t step, const std::string& config_yaml = "") {
  auto w = checkpoints::CheckpointWriter::begin(config.run.dir, step, {/*background=*/false});
  w.write_tensors("model.safetensors", parameters_of(m));
  w.write_json("state.json", {{"format_version", 1}, {"step", step}});
  w.write_text("config.yaml", config_yaml.empty() ? to_yaml(config) : config_yaml);
  return w.commit();
}

fs::path export_to(const fs::path& checkpoint, const fs::path& out) {
  ExportOptions o;
  o.checkpoint = checkpoint;
  o.output = out;
  export_checkpoint(o);
  return out;
}

nlohmann::json read_json(const fs::path& file) { return nlohmann::json::parse(core::read_file(file)); }

model::T5Model start(const RunConfig& config) {
  return initialise_model(config.model, static_cast<uint64_t>(config.run.seed), config.objective.task_tokens());
}

// A 160-row model with task tokens, saved and exported.
struct MixtureExport {
  ScratchDir scratch{"ankh-task-tokens"};
  RunConfig config = mixture_config(scratch / "run");
  model::T5Model model = trained_model(config, 7);
  fs::path out = export_to(save_checkpoint(config, model, 20), scratch / "hf");
};

TEST(TaskTokens, VocabularyGrowsToAMultipleOf16) {
  EXPECT_EQ(data::vocab_size_for(0), 144);
  EXPECT_EQ(data::vocab_size_for(1), 160);
  EXPECT_EQ(data::vocab_size_for(16), 160);
  EXPECT_EQ(data::vocab_size_for(17), 176);
  ScratchDir scratch;
  EXPECT_EQ(mixture_config(scratch / "run").model.vocab_size, 160);
}

TEST(TaskTokens, ExportWritesThemIntoTokenizerAndConfig) {
  MixtureExport f;
  const auto tok = read_json(f.out / "tokenizer.json");
  EXPECT_EQ(tok["model"]["vocab"].size(), 146u);
  EXPECT_EQ(tok["model"]["vocab"]["[NLU]"], 144);
  EXPECT_EQ(tok["model"]["vocab"]["[S2S]"], 145);
  // Special added tokens: the tokenizer matches them whole before splitting into characters.
  for (std::size_t k = 0; k < kTokens.size(); ++k) {
    const auto it = std::find_if(tok["added_tokens"].begin(), tok["added_tokens"].end(),
                                 [&](const nlohmann::json& t) { return t["content"] == kTokens[k]; });
    ASSERT_NE(it, tok["added_tokens"].end()) << kTokens[k];
    EXPECT_EQ((*it)["id"], 144 + static_cast<int>(k));
    EXPECT_EQ((*it)["special"], true);
    EXPECT_EQ((*it)["normalized"], false);
  }
  EXPECT_EQ(tok["added_tokens"].size(), 3u + 116u + 2u);
  for (const char* file : {"special_tokens_map.json", "tokenizer_config.json"}) {
    const auto specials = read_json(f.out / file)["additional_special_tokens"];
    ASSERT_EQ(specials.size(), 118u) << file;
    EXPECT_EQ(specials[0], "<extra_id_0>") << file;
    EXPECT_EQ(specials[116], "[NLU]") << file;
    EXPECT_EQ(specials[117], "[S2S]") << file;
  }
  const auto config = read_json(f.out / "config.json");
  EXPECT_EQ(config["vocab_size"], 160);
  EXPECT_EQ(config["task_tokens"], (nlohmann::json{{"[NLU]", 144}, {"[S2S]", 145}}));
  const std::string card = core::read_file(f.out / "README.md");
  EXPECT_NE(card.find("`[NLU]` (144), `[S2S]` (145)"), std::string::npos) << card;

  // Read back as a Hugging Face directory; `ankh verify` finds nothing wrong.
  const LoadedWeights back = load_weights(f.out);
  EXPECT_EQ(back.task_tokens, kTokens);
  EXPECT_EQ(back.config.vocab_size, 160);
  const auto report = verify_hf_export(f.out);
  EXPECT_TRUE(report.ok()) << (report.ok() ? "" : report.problems[0].what);
  if (testing::python_has_numpy()) {
    const auto check = testing::check_hf_export(f.out);
    EXPECT_EQ(check.exit_code, 0) << check.output;
  }
}

TEST(TaskTokens, InitFromTheExportWithTheSameObjectiveRoundTrips) {
  MixtureExport f;
  const RunConfig again = mixture_config(f.scratch / "run2", {"run.seed=4321", "model.init_from=" + f.out.string()});
  model::T5Model started = start(again);
  auto theirs = parameters_of(f.model);
  for (const auto& [name, t] : parameters_of(started)) EXPECT_TRUE(torch::equal(t, theirs.at(name))) << name;
  EXPECT_EQ(started->shared->weight.size(0), 160);

  // The same tokens listed in another order number them otherwise: refused, naming both ids.
  const RunConfig swapped = mixture_config(f.scratch / "run3", {"model.init_from=" + f.out.string()}, {"[S2S]", "[NLU]"});
  const std::string e = error_of<core::CheckpointError>([&] { start(swapped); });
  EXPECT_NE(e.find("task token '[S2S]' is 145, ours is 144"), std::string::npos) << e;
  EXPECT_NE(e.find("tokenizer.json"), std::string::npos) << e;
}

TEST(TaskTokens, ATokenizerThatNumbersATaskTokenOtherwiseIsRefused) {
  MixtureExport f;
  const RunConfig again = mixture_config(f.scratch / "run2", {"model.init_from=" + f.out.string()});
  const auto original = read_json(f.out / "tokenizer.json");

  // [NLU] at 146 instead of 144.
  auto tok = original;
  tok["model"]["vocab"]["[NLU]"] = 146;
  for (auto& t : tok["added_tokens"])
    if (t["content"] == "[NLU]") t["id"] = 146;
  core::write_file_atomic(f.out / "tokenizer.json", tok.dump());
  std::string e = error_of<core::CheckpointError>([&] { start(again); });
  EXPECT_NE(e.find("task token '[NLU]' is 146, ours is 144"), std::string::npos) << e;
  EXPECT_NE(e.find((f.out / "tokenizer.json").string()), std::string::npos) << e;

  // Another model's task token where ours should be.
  tok = original;
  tok["model"]["vocab"].erase("[NLU]");
  tok["model"]["vocab"]["[FOO]"] = 144;
  for (auto& t : tok["added_tokens"])
    if (t["content"] == "[NLU]") t["content"] = "[FOO]";
  core::write_file_atomic(f.out / "tokenizer.json", tok.dump());
  e = error_of<core::CheckpointError>([&] { start(again); });
  EXPECT_NE(e.find("task token '[NLU]' (ours is 144) is missing, while it has other tokens past Ankh's 144: '[FOO]' 144"),
            std::string::npos)
      << e;
  // `ankh verify` and `ankh embed` check the tokenizer against config.json's task tokens alike.
  const auto report = verify_hf_export(f.out);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.problems[0].what.find("'[NLU]'"), std::string::npos) << report.problems[0].what;

  // config.json's own list must be well formed: ids from 144 on, without gaps.
  core::write_file_atomic(f.out / "tokenizer.json", original.dump());
  auto config = read_json(f.out / "config.json");
  config["task_tokens"]["[S2S]"] = 147;
  core::write_file_atomic(f.out / "config.json", config.dump());
  e = error_of<core::CheckpointError>([&] { load_weights(f.out); });
  EXPECT_NE(e.find("task token '[S2S]' has id 147, expected 145"), std::string::npos) << e;
  EXPECT_NE(e.find("config.json"), std::string::npos) << e;
  config["task_tokens"] = nlohmann::json::array({"[NLU]"});
  core::write_file_atomic(f.out / "config.json", config.dump());
  e = error_of<core::CheckpointError>([&] { load_weights(f.out); });
  EXPECT_NE(e.find("'task_tokens' is not an object"), std::string::npos) << e;
}

TEST(TaskTokens, A144TokenModelGrowsOnlyWithResizeVocab) {
  ScratchDir scratch{"ankh-task-tokens"};
  const RunConfig plain = testing::tiny_run_config(scratch / "run");
  model::T5Model source = trained_model(plain, 3);
  const fs::path out = export_to(save_checkpoint(plain, source, 10), scratch / "hf144");

  RunConfig grown = mixture_config(scratch / "run2", {"model.init_from=" + out.string()});
  ASSERT_EQ(grown.model.vocab_size, 160);
  std::string e = error_of<core::CheckpointError>([&] { start(grown); });
  for (const std::string& expected : {std::string("144 tokens"), std::string("model.vocab_size is 160"), out.string(),
                                      std::string("set model.resize_vocab: true to initialise the new rows")})
    EXPECT_NE(e.find(expected), std::string::npos) << expected << "\n" << e;

  grown.model.resize_vocab = true;
  model::T5Model m = start(grown);
  auto theirs = parameters_of(source);
  for (const auto& [name, t] : parameters_of(m)) {
    const torch::Tensor& s = theirs.at(name);
    if (name != "shared.weight" && name != "lm_head.weight") {
      EXPECT_TRUE(torch::equal(t, s)) << name;
      continue;
    }
    ASSERT_EQ(t.sizes(), (std::vector<int64_t>{160, 32})) << name;
    EXPECT_TRUE(torch::equal(t.slice(0, 0, 144), s)) << name;
    const torch::Tensor mean = s.to(torch::kFloat64).mean(0).to(torch::kFloat32);
    for (int64_t row = 144; row < 160; ++row) EXPECT_TRUE(torch::equal(t[row], mean)) << name << " row " << row;
    EXPECT_LT((mean - s.mean(0)).abs().max().item<double>(), 1e-6) << name;  // the mean, whatever the summation
  }

  // resize_vocab with equal sizes changes nothing.
  RunConfig same = testing::tiny_run_config(scratch / "run3", {"model.init_from=" + out.string(), "model.resize_vocab=true"});
  model::T5Model copy = start(same);
  for (const auto& [name, t] : parameters_of(copy)) EXPECT_TRUE(torch::equal(t, theirs.at(name))) << name;

  // Growing still checks every other key of the architecture.
  RunConfig wider = grown;
  wider.model.d_ff = 64;
  e = error_of<core::CheckpointError>([&] { start(wider); });
  EXPECT_NE(e.find("d_ff = 48, model.d_ff = 64"), std::string::npos) << e;
  EXPECT_EQ(e.find("vocab_size"), std::string::npos) << e;
}

TEST(TaskTokens, TiedEmbeddingsGrowTheSharedMatrixAlone) {
  ScratchDir scratch{"ankh-task-tokens"};
  const RunConfig plain = testing::tiny_run_config(scratch / "run", {"model.tie_embeddings=true"});
  model::T5Model source = trained_model(plain, 3);
  const fs::path out = export_to(save_checkpoint(plain, source, 10), scratch / "hf144");
  RunConfig grown = mixture_config(scratch / "run2", {"model.tie_embeddings=true", "model.init_from=" + out.string(),
                                                      "model.resize_vocab=true"});
  model::T5Model m = start(grown);
  EXPECT_TRUE(torch::equal(m->shared->weight.slice(0, 0, 144), source->shared->weight));
  EXPECT_TRUE(torch::equal(m->shared->weight[159], source->shared->weight.to(torch::kFloat64).mean(0).to(torch::kFloat32)));
}

TEST(TaskTokens, ALargerVocabularyIsAlwaysRefused) {
  MixtureExport f;
  for (const bool resize : {false, true}) {
    RunConfig small = testing::tiny_run_config(f.scratch / "run2", {"model.init_from=" + f.out.string()});
    small.model.resize_vocab = resize;
    const std::string e = error_of<core::CheckpointError>([&] { start(small); });
    EXPECT_NE(e.find("160 tokens (config.json vocab_size), more than model.vocab_size 144"), std::string::npos) << e;
    EXPECT_NE(e.find("set model.vocab_size: 160"), std::string::npos) << e;
  }
}

TEST(TaskTokens, CheckpointObjectiveSectionDecidesTheTaskTokens) {
  ScratchDir scratch{"ankh-task-tokens"};
  RunConfig config = testing::tiny_run_config(scratch / "run");
  model::T5Model m = trained_model(config, 5);
  // No objective section at all (a config.yaml of model: only): no task tokens.
  const std::string model_only =
      "model:\n  d_model: 32\n  num_heads: 2\n  d_kv: 16\n  d_ff: 48\n  encoder_layers: 2\n  decoder_layers: 2\n"
      "  relative_buckets: 8\n  relative_max_distance: 16\n";
  const fs::path bare = save_checkpoint(config, m, 10, model_only);
  EXPECT_TRUE(load_weights(bare).task_tokens.empty());
  export_to(bare, scratch / "bare");
  EXPECT_FALSE(read_json(scratch / "bare/config.json").contains("task_tokens"));
  // A checkpoint written before task tokens existed (a single objective, scalar mask_prob).
  const fs::path older =
      save_checkpoint(config, m, 15, model_only + "objective:\n  kind: t5_span\n  mask_prob: 0.15\n  mean_span_length: 3\n");
  EXPECT_TRUE(load_weights(older).task_tokens.empty());
  // An objective section that does not parse: the export cannot know the vocabulary.
  const fs::path broken = save_checkpoint(config, m, 20, model_only + "objective:\n  kind: no-such-kind\n");
  const std::string e = error_of<core::CheckpointError>([&] { export_to(broken, scratch / "broken"); });
  EXPECT_NE(e.find("objective section does not parse"), std::string::npos) << e;
  EXPECT_NE(e.find((broken / "config.yaml").string()), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(scratch / "broken"));
}

}  // namespace
}  // namespace ankh::weights
