// `ankh export` and `model.init_from`: a checkpoint exported to a Hugging Face directory, read
// back and loaded into a fresh model gives bitwise the same logits (fp32), and so does the
// trainer's own start-from-a-directory path (initialise_model). bf16/fp16/encoder-only exports
// pass scripts/check_hf_export.py; uncommitted, damaged and mismatched inputs are refused with
// nothing written.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "checkpoints/checkpoint_dir.h"
#include "checkpoints/hf_export.h"
#include "checkpoints/safetensors.h"
#include "core/error.h"
#include "core/files.h"
#include "data/batch.h"
#include "data/vocab.h"
#include "tests/support/test_support.h"
#include "trainer/weights/exporter.h"
#include "trainer/weights/model_io.h"
#include "trainer/run_config.h"

namespace ankh::weights {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;
using namespace ankh::trainer;  // RunConfig: the configs these tests start from
using testing::error_of;

RunConfig tiny_config(const fs::path& run_dir, const std::vector<std::string>& extra = {}) {
  return testing::tiny_run_config(run_dir, extra);
}

model::T5Model trained_model(const RunConfig& config, uint64_t seed) {
  model::T5Model m(config.model);
  m->init_weights(seed);
  // Not just the initial values: every parameter moved off its init (RMSNorm weights included).
  torch::NoGradGuard no_grad;
  torch::manual_seed(static_cast<int64_t>(seed));
  for (auto& p : m->parameters()) p.add_(torch::randn_like(p) * 0.05);
  m->eval();
  return m;
}

fs::path save_checkpoint(const RunConfig& config, model::T5Model& m, int64_t step) {
  auto w = checkpoints::CheckpointWriter::begin(config.run.dir, step, {/*background=*/false});
  w.write_tensors("model.safetensors", parameters_of(m));
  w.write_json("state.json", {{"format_version", 1}, {"step", step}, {"tokens_seen", 1000 * step}, {"best_valid_loss", 3.25}});
  w.write_text("config.yaml", to_yaml(config));
  return w.commit();
}

data::Batch probe_batch() {
  torch::manual_seed(5);
  data::Batch b;
  b.input_ids = torch::randint(3, 28, {3, 9}, torch::kLong);
  b.input_ids.select(1, 8).fill_(1);  // </s>
  b.attention_mask = torch::ones({3, 9}, torch::kLong);
  b.attention_mask[2].slice(0, 6).fill_(0);
  b.input_ids[2].slice(0, 6).fill_(0);
  b.decoder_input_ids = torch::randint(3, 144, {3, 5}, torch::kLong);
  b.decoder_input_ids.select(1, 0).fill_(0);
  b.decoder_attention_mask = torch::ones({3, 5}, torch::kLong);
  return b;
}

torch::Tensor logits_of(model::T5Model& m) {
  torch::NoGradGuard no_grad;
  m->eval();
  return m->forward(probe_batch());
}



ExportOptions export_options(const fs::path& checkpoint, const fs::path& output) {
  ExportOptions o;
  o.checkpoint = checkpoint;
  o.output = output;
  return o;
}

struct Fixture {
  ScratchDir scratch{"ankh-export"};
  RunConfig config = tiny_config(scratch / "run");
  model::T5Model model = trained_model(config, 7);
  fs::path checkpoint = save_checkpoint(config, model, 20);
};

TEST(Export, Fp32RoundTripGivesBitwiseIdenticalLogits) {
  Fixture f;
  const fs::path out = f.scratch / "hf";
  const auto r = export_checkpoint(export_options(f.checkpoint, out));
  EXPECT_EQ(r.step, 20);
  EXPECT_FALSE(fs::exists(out.string() + ".tmp"));

  const auto hf = checkpoints::read_hf_directory(out);
  EXPECT_EQ(hf.config["architectures"][0], "T5ForConditionalGeneration");
  EXPECT_EQ(hf.config["d_model"], 32);
  model::T5Model fresh(f.config.model);
  fresh->init_weights(99);
  ASSERT_FALSE(torch::equal(logits_of(fresh), logits_of(f.model)));  // the test can fail
  load_parameters(fresh, hf.tensors, out.string());
  EXPECT_TRUE(torch::equal(logits_of(fresh), logits_of(f.model)));
  for (const auto& [name, t] : hf.tensors) EXPECT_EQ(t.scalar_type(), torch::kFloat32) << name;

  if (!testing::python_has_numpy()) GTEST_SKIP() << "/usr/bin/python3 has no numpy";
  const auto check = testing::check_hf_export(out);
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("T5ForConditionalGeneration"), std::string::npos) << check.output;
}

TEST(Export, InitFromThroughTheTrainersPathReproducesLogitsExactly) {
  Fixture f;
  const fs::path out = f.scratch / "hf";
  export_checkpoint(export_options(f.checkpoint, out));
  // Another seed: only init_from can make the logits equal.
  const RunConfig config = tiny_config(f.scratch / "run2", {"run.seed=4321", "model.init_from=" + out.string()});
  model::T5Model started = initialise_model(config.model, static_cast<uint64_t>(config.run.seed));
  EXPECT_TRUE(torch::equal(logits_of(started), logits_of(f.model)));

  RunConfig plain = config;
  plain.model.init_from.clear();
  model::T5Model unstarted = initialise_model(plain.model, static_cast<uint64_t>(plain.run.seed));
  EXPECT_FALSE(torch::equal(logits_of(unstarted), logits_of(f.model)));
}

TEST(Export, InitFromRefusesAnotherArchitectureNamingTheKeys) {
  Fixture f;
  const fs::path out = f.scratch / "hf";
  export_checkpoint(export_options(f.checkpoint, out));
  // Same tensor shapes, different computation: only the config.json check can see it.
  const RunConfig silu = tiny_config(f.scratch / "r", {"model.activation=gated-silu", "model.init_from=" + out.string()});
  std::string e = error_of([&] { initialise_model(silu.model, static_cast<uint64_t>(silu.run.seed)); });
  EXPECT_NE(e.find("feed_forward_proj = \"gated-gelu\", model.activation = \"gated-silu\""), std::string::npos) << e;
  EXPECT_NE(e.find(out.string()), std::string::npos) << e;
  const RunConfig wider = tiny_config(f.scratch / "r", {"model.d_ff=64", "model.init_from=" + out.string()});
  e = error_of([&] { initialise_model(wider.model, static_cast<uint64_t>(wider.run.seed)); });
  EXPECT_NE(e.find("d_ff = 48, model.d_ff = 64"), std::string::npos) << e;
  const RunConfig missing = tiny_config(f.scratch / "r", {"model.init_from=" + (f.scratch / "nope").string()});
  e = error_of([&] { initialise_model(missing.model, static_cast<uint64_t>(missing.run.seed)); });
  EXPECT_NE(e.find("no such directory"), std::string::npos) << e;
}

TEST(Export, InitFromChecksNamesAndShapesAndVocabulary) {
  Fixture f;
  const fs::path out = f.scratch / "hf";
  export_checkpoint(export_options(f.checkpoint, out));
  const RunConfig config = tiny_config(f.scratch / "r", {"model.init_from=" + out.string()});
  // An encoder-only directory lacks the decoder: every missing tensor is listed.
  const fs::path enc = f.scratch / "enc";
  auto o = export_options(f.checkpoint, enc);
  o.encoder_only = true;
  export_checkpoint(o);
  RunConfig from_enc = config;
  from_enc.model.init_from = enc.string();
  std::string e = error_of([&] { initialise_model(from_enc.model, static_cast<uint64_t>(from_enc.run.seed)); });
  EXPECT_NE(e.find("missing decoder.block.1.layer.2.DenseReluDense.wo.weight [32, 48]"), std::string::npos) << e;
  EXPECT_NE(e.find("missing lm_head.weight"), std::string::npos) << e;

  // A tokenizer that numbers residues otherwise is another model's vocabulary.
  auto tok = nlohmann::json::parse(core::read_file(out / "tokenizer.json"));
  tok["model"]["vocab"]["A"] = 4;
  tok["model"]["vocab"]["L"] = 3;
  core::write_file_atomic(out / "tokenizer.json", tok.dump());
  e = error_of([&] { initialise_model(config.model, static_cast<uint64_t>(config.run.seed)); });
  EXPECT_NE(e.find("'A' is 4, ankh's is 3"), std::string::npos) << e;
  // An official Ankh download: a Unigram vocabulary ([token, score] pairs) in Ankh's order, or none.
  nlohmann::json unigram = nlohmann::json::array();
  for (const auto& token : data::vocabulary()) unigram.push_back({token, 0.0});
  core::write_file_atomic(out / "tokenizer.json", nlohmann::json{{"model", {{"type", "Unigram"}, {"vocab", unigram}}}}.dump());
  model::T5Model from_unigram = initialise_model(config.model, static_cast<uint64_t>(config.run.seed));
  EXPECT_TRUE(torch::equal(logits_of(from_unigram), logits_of(f.model)));
  fs::remove(out / "tokenizer.json");
  EXPECT_NO_THROW(initialise_model(config.model, static_cast<uint64_t>(config.run.seed)));
}

TEST(Export, Bf16AndFp16ReadBackClose) {
  Fixture f;
  const torch::Tensor reference = logits_of(f.model);
  for (const auto& [name, dtype] : std::vector<std::pair<std::string, torch::ScalarType>>{{"bf16", torch::kBFloat16}, {"fp16", torch::kFloat16}}) {
    const fs::path out = f.scratch / name;
    auto o = export_options(f.checkpoint, out);
    o.dtype = dtype;
    export_checkpoint(o);
    const auto hf = checkpoints::read_hf_directory(out);
    for (const auto& [tensor, t] : hf.tensors) EXPECT_EQ(t.scalar_type(), dtype) << name << " " << tensor;
    EXPECT_EQ(hf.config["torch_dtype"], name == "bf16" ? "bfloat16" : "float16");
    EXPECT_TRUE(torch::equal(hf.tensors.at("shared.weight"), f.model->shared->weight.to(dtype)));
    model::T5Model fresh(f.config.model);
    load_parameters(fresh, hf.tensors, out.string());
    const torch::Tensor logits = logits_of(fresh);
    EXPECT_FALSE(torch::equal(logits, reference)) << name;  // rounded weights
    EXPECT_LT((logits - reference).abs().max().item<double>(), 0.05 * reference.abs().max().item<double>()) << name;
    if (testing::python_has_numpy()) {
      const auto check = testing::check_hf_export(out);
      EXPECT_EQ(check.exit_code, 0) << check.output;
    }
  }
}

TEST(Export, EncoderOnlyHasNoDecoderTensorsAndPassesTheChecker) {
  Fixture f;
  const fs::path out = f.scratch / "enc";
  auto o = export_options(f.checkpoint, out);
  o.encoder_only = true;
  export_checkpoint(o);
  checkpoints::SafetensorsReader reader(out / "model.safetensors");
  ASSERT_FALSE(reader.names().empty());
  for (const auto& name : reader.names())
    EXPECT_TRUE(name.rfind("shared.", 0) == 0 || name.rfind("encoder.", 0) == 0) << name;
  EXPECT_EQ(nlohmann::json::parse(core::read_file(out / "config.json"))["architectures"][0], "T5EncoderModel");
  if (!testing::python_has_numpy()) GTEST_SKIP() << "/usr/bin/python3 has no numpy";
  const auto check = testing::check_hf_export(out);
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("T5EncoderModel"), std::string::npos) << check.output;
}

TEST(Export, ModelCardHasTheConfigStepTokensAndFinalMetrics) {
  Fixture f;
  // The run went on after step 20: its later records are not this checkpoint's.
  std::ofstream(f.scratch / "run/metrics.jsonl")
      << R"({"event":"start","step":0})" << "\n"
      << R"({"event":"train","step":10,"loss":4.5,"accuracy":0.1})" << "\n"
      << R"({"event":"train","step":20,"loss":3.5,"accuracy":0.2})" << "\n"
      << R"({"event":"valid","step":20,"loss":3.25,"perplexity":25.8})" << "\n"
      << R"({"event":"train","step":30,"loss":2.5})" << "\n"
      << R"({"event":"tra)" << "\n";  // a line cut short by a crash
  const fs::path out = f.scratch / "hf";
  const auto r = export_checkpoint(export_options(f.scratch / "run", out));  // the run directory: its newest checkpoint
  EXPECT_EQ(r.checkpoint, f.checkpoint);
  EXPECT_EQ(r.metrics["train_loss"], 3.5);
  EXPECT_EQ(r.metrics["valid_perplexity"], 25.8);
  EXPECT_EQ(r.metrics["tokens_seen"], 20000);
  const std::string card = core::read_file(out / "README.md");
  for (const std::string& expected : std::vector<std::string>{"# run", "training step: 20", "| tokens_seen | 20000 |", "| train_loss | 3.5 |",
                                     "| valid_loss | 3.25 |", "d_model: 32", "```yaml", "exported from: `" + f.checkpoint.string()})
    EXPECT_NE(card.find(expected), std::string::npos) << expected << "\n" << card;
  EXPECT_EQ(card.find("2.5"), std::string::npos) << card;

  // Without metrics.jsonl, state.json's numbers remain.
  const auto alone = final_metrics(f.scratch / "none.jsonl", 20, nlohmann::json{{"tokens_seen", 7}, {"best_valid_loss", -1}});
  EXPECT_EQ(alone, (nlohmann::json{{"step", 20}, {"tokens_seen", 7}}));
}

TEST(Export, RunDirectoryTakesTheNewestCommittedCheckpoint) {
  Fixture f;
  model::T5Model later = trained_model(f.config, 8);
  save_checkpoint(f.config, later, 30);
  // A newer step without its marker (a crash during the commit) is skipped.
  fs::copy(f.checkpoint, checkpoints::checkpoint_path(f.config.run.dir, 40), fs::copy_options::recursive);
  fs::remove(checkpoints::checkpoint_path(f.config.run.dir, 40) / checkpoints::kCommitMarker);
  const auto r = export_checkpoint(export_options(f.config.run.dir, f.scratch / "hf"));
  EXPECT_EQ(r.step, 30);
  const auto hf = checkpoints::read_hf_directory(f.scratch / "hf");
  EXPECT_TRUE(torch::equal(hf.tensors.at("lm_head.weight"), later->lm_head->weight));
}

TEST(Export, UncommittedDamagedAndWrongInputsAreRefusedWithNothingWritten) {
  Fixture f;
  const fs::path out = f.scratch / "hf";
  auto refused = [&](const fs::path& input, const std::string& expected) {
    const std::string e = error_of([&] { export_checkpoint(export_options(input, out)); });
    EXPECT_NE(e.find(expected), std::string::npos) << input << ": " << e;
    EXPECT_FALSE(fs::exists(out)) << input;
    EXPECT_FALSE(fs::exists(out.string() + ".tmp")) << input;
  };
  const fs::path runs = f.config.run.dir;
  fs::copy(f.checkpoint, checkpoints::checkpoints_dir(runs) / "step-00000050.tmp", fs::copy_options::recursive);
  refused(checkpoints::checkpoints_dir(runs) / "step-00000050.tmp", "never committed");
  fs::copy(f.checkpoint, checkpoints::checkpoint_path(runs, 60), fs::copy_options::recursive);
  fs::remove(checkpoints::checkpoint_path(runs, 60) / checkpoints::kCommitMarker);
  refused(checkpoints::checkpoint_path(runs, 60), "COMMITTED");
  // One flipped byte in the weights: the marker's XXH64 catches it.
  const fs::path damaged = checkpoints::checkpoint_path(runs, 70);
  fs::copy(f.checkpoint, damaged, fs::copy_options::recursive);
  {
    std::fstream file(damaged / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(-3, std::ios::end);
    file.put('\x7f');
  }
  refused(damaged, "model.safetensors");
  refused(f.scratch / "missing", "no such file or directory");
  refused(f.scratch.path(), "neither a checkpoint, a run directory nor a Hugging Face directory");
  fs::create_directories(f.scratch / "empty-run/checkpoints");
  refused(f.scratch / "empty-run", "run directory has no committed checkpoint");

  export_checkpoint(export_options(f.checkpoint, f.scratch / "first"));
  const std::string e = error_of([&] { export_checkpoint(export_options(f.scratch / "first", out)); });
  EXPECT_NE(e.find("Hugging Face directory already"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(out));
}

TEST(Export, ExistingOutputNeedsOverwriteAndFp16OverflowIsRefused) {
  Fixture f;
  const fs::path out = f.scratch / "hf";
  testing::write_text(out / "keep.txt", "mine");
  std::string e = error_of([&] { export_checkpoint(export_options(f.checkpoint, out)); });
  EXPECT_NE(e.find("already exists"), std::string::npos) << e;
  EXPECT_EQ(core::read_file(out / "keep.txt"), "mine");

  {  // A weight beyond fp16's range would load as inf.
    torch::NoGradGuard no_grad;
    f.model->shared->weight[3][1] = 70000.0;
  }
  const fs::path big = save_checkpoint(f.config, f.model, 21);
  auto o = export_options(big, out);
  o.overwrite = true;
  o.dtype = torch::kFloat16;
  e = error_of([&] { export_checkpoint(o); });
  EXPECT_NE(e.find("weights too large for fp16:\n    shared.weight"), std::string::npos) << e;
  EXPECT_EQ(core::read_file(out / "keep.txt"), "mine");

  o.dtype = torch::kBFloat16;
  export_checkpoint(o);
  EXPECT_FALSE(fs::exists(out / "keep.txt"));
  EXPECT_TRUE(fs::exists(out / "model.safetensors"));
}

}  // namespace
}  // namespace ankh::weights
