// The crash inputs the fuzz targets found (tests/fuzz, docs/development.md#fuzzing), each kept as
// the smallest file that showed it: every one must now end in a core::Error that names the file,
// not in an exception that `main` can only call an internal error, nor in undefined behaviour.
#include <gtest/gtest.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "checkpoints/commit_marker.h"
#include "checkpoints/safetensors.h"
#include "checkpoints/t5_layout.h"
#include "core/error.h"
#include "trainer/app/sweep/sweep_file.h"
#include "trainer/checkpointing.h"
#include "trainer/weights/model_io.h"
#include "tests/support/test_support.h"

namespace ankh {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;
using testing::error_of;
using testing::write_text;

// A safetensors file with this header text and no data.
std::string safetensors_with_header(const std::string& header) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  return out + header;
}

// A Hugging Face directory with this config.json, an empty model.safetensors and, unless empty,
// this tokenizer.json.
fs::path hf_dir(const ScratchDir& scratch, const std::string& config, const std::string& tokenizer = "") {
  const fs::path dir = scratch / "hf";
  write_text(dir / "config.json", config);
  write_text(dir / "model.safetensors", safetensors_with_header("{}      "));
  if (!tokenizer.empty()) write_text(dir / "tokenizer.json", tokenizer);
  return dir;
}

// fuzz_hf_import: a number past a double is not a json::parse_error but a json::out_of_range
// (406), which the catch of config.json's parse let through.
TEST(FuzzRegressions, ConfigJsonNumberPastDouble) {
  ScratchDir scratch;
  const fs::path dir = hf_dir(scratch, R"({"model_type": "t5", "layer_norm_epsilon": 1e606})");
  const std::string e = error_of<core::CheckpointError>([&] { weights::load_weights(dir); });
  EXPECT_NE(e.find("not valid JSON"), std::string::npos) << e;
  EXPECT_NE(e.find("config.json"), std::string::npos) << e;
}

// The same number in the other JSON files ankh reads: tokenizer.json, a safetensors header, a
// commit marker (state.json goes through the same catch in CheckpointReader::read_json).
TEST(FuzzRegressions, OtherJsonFilesNumberPastDouble) {
  ScratchDir scratch;
  const fs::path dir = hf_dir(scratch, R"({"model_type": "t5"})", R"({"model": {"vocab": {"A": 1e606}}})");
  EXPECT_NE(error_of<core::CheckpointError>([&] { weights::check_hf_vocabulary(dir); }).find("tokenizer.json"),
            std::string::npos);

  write_text(scratch / "x.safetensors", safetensors_with_header(R"({"a": 1e606})"));
  EXPECT_NE(error_of<core::CheckpointError>([&] { checkpoints::SafetensorsReader reader(scratch / "x.safetensors"); })
                .find("not valid JSON"),
            std::string::npos);

  EXPECT_NE(error_of<core::CheckpointError>([&] { checkpoints::CommitMarker::parse("[1e606]", "COMMITTED"); })
                .find("COMMITTED"),
            std::string::npos);
}

// fuzz_commit_marker: a "format" that is not a string (the input it found: the key given twice,
// the last one a number) made json::value() throw a type_error.
TEST(FuzzRegressions, CommitMarkerFormatNotAString) {
  const std::string found = R"({"format": "ankh-checkpoint", "format_vmat_version": 1, "format": 1, "step": 0, "frsion": 1, "steiles": {}})";
  for (const std::string& text : {found, std::string(R"({"format": ["ankh-checkpoint"]})"), std::string("[]")}) {
    const std::string e = error_of<core::CheckpointError>([&] { checkpoints::CommitMarker::parse(text, "step-1/COMMITTED"); });
    EXPECT_NE(e.find("not an ankh commit marker"), std::string::npos) << text << ": " << e;
    EXPECT_NE(e.find("step-1/COMMITTED"), std::string::npos) << e;
  }
}

// A T5 config.json with small, valid sizes, and `extra` keys set over it.
std::string t5_config(const std::string& extra = "") {
  return R"({"vocab_size": 144, "d_model": 8, "d_kv": 2, "d_ff": 4, "num_layers": 1, "num_heads": 2,
             "relative_attention_num_buckets": 4)" + (extra.empty() ? "" : ", " + extra) + "}";
}

// fuzz_hf_import (hand-made inputs of the cases read in the code beside it): json::value() throws a
// type_error for a key of another type, and a size of 10^8 layers made the layout list 10^9 names.
TEST(FuzzRegressions, ConfigJsonKeysOfAnotherType) {
  ScratchDir scratch;
  ASSERT_NO_THROW(weights::load_weights(hf_dir(scratch, t5_config())));
  const std::pair<const char*, const char*> cases[] = {
      {R"("feed_forward_proj": 1)", "feed_forward_proj"},
      {R"("tie_word_embeddings": 1)", "tie_word_embeddings"},
      {R"("num_layers": 100000000)", "num_layers"},
      {R"("d_model": 0)", "d_model"},
  };
  for (const auto& [extra, key] : cases) {
    const fs::path dir = hf_dir(scratch, t5_config(extra));
    const std::string e = error_of<core::CheckpointError>([&] { weights::load_weights(dir); });
    EXPECT_NE(e.find(key), std::string::npos) << extra << ": " << e;
    // The tensor layout that config.json implies refuses them too (ankh export's and import's
    // checks), except a size of 0, which lays out empty tensors.
    const auto json = nlohmann::json::parse(t5_config(extra));
    if (std::string(key) != "d_model") {
      EXPECT_NE(error_of<core::CheckpointError>([&] { checkpoints::t5_layout(json, false); }).find(key), std::string::npos)
          << extra;
    }
  }
  EXPECT_NE(error_of<core::CheckpointError>([&] { weights::load_weights(hf_dir(scratch, "[1, 2]")); }).find("JSON object"),
            std::string::npos);
}

// fuzz_hf_import: tokenizer.json whose "model" is not an object.
TEST(FuzzRegressions, TokenizerModelNotAnObject) {
  ScratchDir scratch;
  const fs::path dir = hf_dir(scratch, t5_config(), R"({"model": [1]})");
  EXPECT_NO_THROW(weights::check_hf_vocabulary(dir));  // no vocabulary in it: Ankh's ids are assumed, as without the file
}

// fuzz_sweep_file: a probe task path longer than a file name may be (ENAMETOOLONG) made
// std::filesystem::is_regular_file throw a filesystem_error out of load_probe_task.
TEST(FuzzRegressions, SweepProbePathTooLong) {
  ScratchDir scratch;
  write_text(scratch / "run.yaml", "run: {seed: 1}\n");
  write_text(scratch / "sweep.yaml", "base: run.yaml\nprobes: [../" + std::string(300, 'x') + ".yaml]\n");
  const std::string e = error_of<core::ConfigError>([&] { sweep::read_sweep_file(scratch / "sweep.yaml"); });
  EXPECT_NE(e.find("no such probe task file"), std::string::npos) << e;
  EXPECT_NE(e.find("sweep.yaml:2"), std::string::npos) << e;
}

nlohmann::json valid_state() {
  return nlohmann::json::parse(R"({"format_version": 1, "step": 40, "tokens_seen": 156352, "skipped_steps": 0,
      "consecutive_skipped": 0, "train_seconds": 31.7, "best_valid_loss": -1.0, "world_size": 2,
      "loader": {"epoch": 0, "next_sample": 1280, "sequences": 19587}})");
}

// fuzz_state_json: a float where state.json has a count (world_size 1.5e125) was converted to int,
// which is undefined behaviour (UBSan: "outside the range of representable values of type 'int'").
TEST(FuzzRegressions, StateJsonFloatCount) {
  ASSERT_NO_THROW(trainer::progress_from_json(valid_state(), "state.json"));
  for (const char* key : {"world_size", "step", "format_version"}) {
    nlohmann::json s = valid_state();
    s[key] = 1.55556e+125;
    const std::string e = error_of<core::CheckpointError>([&] { trainer::progress_from_json(s, "state.json"); });
    EXPECT_NE(e.find(key), std::string::npos) << e;
    EXPECT_NE(e.find("state.json"), std::string::npos) << e;
  }
  nlohmann::json s = valid_state();
  s["world_size"] = -2;
  EXPECT_NE(error_of<core::CheckpointError>([&] { trainer::progress_from_json(s, "state.json"); }).find("world_size"),
            std::string::npos);
  s = valid_state();
  s["loader"]["epoch"] = 1e300;  // the loader state inside it: the same conversion
  EXPECT_NE(error_of<core::InputError>([&] { trainer::progress_from_json(s, "state.json"); }).find("epoch"),
            std::string::npos);
}

}  // namespace
}  // namespace ankh
