// Strict configs: layering, every error kind, all errors at once, base chains, round trip.
#include <gtest/gtest.h>

#include "core/config.h"
#include "tests/support/test_support.h"
#include "trainer/run_config.h"

using ankh::core::ConfigError;
using ankh::core::ConfigSource;
using ankh::testing::ScratchDir;
using ankh::testing::write_text;
using ankh::trainer::load_run_config;
using ankh::trainer::RunConfig;

namespace {

// The issues of the ConfigError that loading throws (fails the test if nothing is thrown).
std::vector<ankh::core::ConfigIssue> issues_of(const std::filesystem::path& file,
                                               const std::vector<std::string>& overrides = {}) {
  try {
    load_run_config(file, overrides);
  } catch (const ConfigError& e) {
    return e.issues();
  }
  ADD_FAILURE() << "expected a ConfigError for " << file;
  return {};
}

}  // namespace

TEST(Config, DefaultsFileAndOverridesLayerInOrder) {
  ScratchDir dir;
  write_text(dir / "run.yaml", "model:\n  d_model: 512\n  d_ff: 1024\ntrain:\n  max_steps: 7\n");
  const RunConfig c = load_run_config(dir / "run.yaml", {"model.d_ff=2048", "run.seed=99"});
  EXPECT_EQ(c.model.d_model, 512);        // file over default
  EXPECT_EQ(c.model.d_ff, 2048);          // override over file
  EXPECT_EQ(c.run.seed, 99);              // override over default
  EXPECT_EQ(c.train.max_steps, 7);
  EXPECT_EQ(c.model.num_heads, 12);       // untouched default
}

TEST(Config, UnknownKeySuggestsNearest) {
  ScratchDir dir;
  write_text(dir / "run.yaml", "model:\n  d_model: 512\n");
  const auto issues = issues_of(dir / "run.yaml", {"model.d_modle=5"});
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].key, "model.d_modle");
  EXPECT_EQ(issues[0].origin, "command line");
  EXPECT_NE(issues[0].hint.find("did you mean model.d_model?"), std::string::npos);
}

TEST(Config, UnknownSectionSuggestsNearestFullKey) {
  ScratchDir dir;
  write_text(dir / "run.yaml", "modle:\n  d_model: 512\n");
  const auto issues = issues_of(dir / "run.yaml");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].key, "modle.d_model");
  EXPECT_EQ(issues[0].origin, (dir / "run.yaml").string() + ":2");
  EXPECT_NE(issues[0].hint.find("model.d_model"), std::string::npos);
}

TEST(Config, WrongTypeNamesKeyAndExpectedType) {
  ScratchDir dir;
  write_text(dir / "run.yaml", "");
  const auto issues = issues_of(dir / "run.yaml", {"model.d_model=abc"});
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].key, "model.d_model");
  EXPECT_NE(issues[0].message.find("expected an integer"), std::string::npos);
  EXPECT_NE(issues[0].message.find("abc"), std::string::npos);
}

TEST(Config, OutOfRangeNamesTheRange) {
  ScratchDir dir;
  write_text(dir / "run.yaml", "objective:\n  mask_prob: 1.5\n");
  const auto issues = issues_of(dir / "run.yaml");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].key, "objective.mask_prob");
  EXPECT_NE(issues[0].message.find("(0, 1)"), std::string::npos);
}

TEST(Config, BadChoiceSuggestsNearest) {
  ScratchDir dir;
  write_text(dir / "run.yaml", "optim:\n  name: adamv\n");
  const auto issues = issues_of(dir / "run.yaml");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].key, "optim.name");
  EXPECT_NE(issues[0].hint.find("adamw"), std::string::npos);
}

TEST(Config, ListWhereValueBelongsIsAnError) {
  ScratchDir dir;
  write_text(dir / "run.yaml", "model:\n  d_model: [1, 2]\n");
  const auto issues = issues_of(dir / "run.yaml");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_NE(issues[0].message.find("list or map"), std::string::npos);
}

TEST(Config, AllErrorsInOneFileAreReportedTogether) {
  ScratchDir dir;
  write_text(dir / "run.yaml",
             "model:\n  d_modle: 5\n  num_heads: -1\n  dropout: lots\ntrain:\n  log_evry: 3\n");
  const auto issues = issues_of(dir / "run.yaml", {"bad-override"});
  std::set<std::string> keys;
  for (const auto& i : issues) keys.insert(i.key);
  EXPECT_EQ(issues.size(), 5u);
  EXPECT_TRUE(keys.count("model.d_modle"));
  EXPECT_TRUE(keys.count("model.num_heads"));
  EXPECT_TRUE(keys.count("model.dropout"));
  EXPECT_TRUE(keys.count("train.log_evry"));
  EXPECT_TRUE(keys.count("bad-override"));
}

TEST(Config, CrossFieldChecksRunAfterTypes) {
  ScratchDir dir;
  write_text(dir / "run.yaml", "train:\n  global_batch: 10\n  micro_batch: 4\n");
  const auto issues = issues_of(dir / "run.yaml");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].key, "train.global_batch");
}

TEST(Config, BaseChainIsReadFirstAndRelativeToTheFile) {
  ScratchDir dir;
  write_text(dir / "presets" / "model.yaml", "model:\n  d_model: 256\n  d_ff: 512\n");
  write_text(dir / "presets" / "mid.yaml", "base: model.yaml\nmodel:\n  d_ff: 1024\ntrain:\n  max_steps: 3\n");
  write_text(dir / "run.yaml", "base: presets/mid.yaml\ntrain:\n  max_steps: 5\n");
  const RunConfig c = load_run_config(dir / "run.yaml", {});
  EXPECT_EQ(c.model.d_model, 256);
  EXPECT_EQ(c.model.d_ff, 1024);
  EXPECT_EQ(c.train.max_steps, 5);
}

TEST(Config, BaseCycleIsAnError) {
  ScratchDir dir;
  write_text(dir / "a.yaml", "base: b.yaml\n");
  write_text(dir / "b.yaml", "base: a.yaml\n");
  const auto issues = issues_of(dir / "a.yaml");
  ASSERT_FALSE(issues.empty());
  EXPECT_NE(issues[0].message.find("cycle"), std::string::npos);
}

TEST(Config, MissingFileAndBadYamlAreClearErrors) {
  ScratchDir dir;
  EXPECT_THROW(load_run_config(dir / "nope.yaml", {}), ankh::core::IoError);
  write_text(dir / "bad.yaml", "model:\n  d_model: [1, 2\n");
  try {
    load_run_config(dir / "bad.yaml", {});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.issues().size(), 1u);
    EXPECT_NE(e.issues()[0].origin.find("bad.yaml:"), std::string::npos);
  }
}

TEST(Config, PrintedYamlReadsBackToTheSameConfig) {
  ScratchDir dir;
  write_text(dir / "run.yaml", "run:\n  dir: 'runs/with space: colon'\nmodel:\n  init_from: ''\noptim:\n  lr: 3.0e-4\n");
  const RunConfig a = load_run_config(dir / "run.yaml", {"model.dropout=0.1"});
  const std::string yaml = ankh::trainer::to_yaml(a);
  write_text(dir / "printed.yaml", yaml);
  const RunConfig b = load_run_config(dir / "printed.yaml", {});
  EXPECT_EQ(ankh::trainer::to_yaml(b), yaml);
  EXPECT_EQ(b.run.dir, "runs/with space: colon");
  EXPECT_DOUBLE_EQ(b.optim.lr, 3e-4);
  EXPECT_DOUBLE_EQ(b.model.dropout, 0.1);
}

TEST(Config, EveryShippedConfigResolves) {
  for (const char* name : {"ankh-tiny", "ankh-small", "ankh-base", "ankh-large", "demo"}) {
    SCOPED_TRACE(name);
    const auto path = ankh::testing::source_dir() / "configs" / (std::string(name) + ".yaml");
    EXPECT_NO_THROW(load_run_config(path, {}));
  }
}

TEST(Config, SchemaDeclaresEachKeyOnceWithHelp) {
  const auto schema = ankh::core::schema_of<RunConfig>();
  std::set<std::string> seen;
  for (const auto& f : schema.fields) {
    EXPECT_TRUE(seen.insert(f.key).second) << "declared twice: " << f.key;
    EXPECT_FALSE(f.help.empty()) << f.key;
  }
  EXPECT_TRUE(schema.find("model.d_model"));
  EXPECT_EQ(schema.find("model.d_model")->default_text, "768");
}
