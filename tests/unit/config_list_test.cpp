// List-valued config keys: a number or a list of numbers (objective.mask_prob), and a list of
// maps (objective.mixture), each element read with the checks of a section and named
// `objective.mixture[i].key`; printing, reading back and `--help-keys`.
#include <gtest/gtest.h>

#include "core/config.h"
#include "tests/support/test_support.h"
#include "trainer/run_config.h"

using ankh::core::ConfigError;
using ankh::core::ConfigIssue;
using ankh::data::ObjectiveKind;
using ankh::testing::ScratchDir;
using ankh::testing::write_text;
using ankh::trainer::load_run_config;
using ankh::trainer::RunConfig;

namespace {

// Samples short enough for every masking rate used here (rates above ~0.23 of 512 tokens need
// more sentinels than the vocabulary has).
std::vector<std::string> with_short_samples(std::vector<std::string> overrides) {
  overrides.insert(overrides.begin(), "data.max_length=256");
  return overrides;
}

// The issues of the ConfigError that loading `yaml` (with `overrides`) throws.
std::vector<ConfigIssue> issues_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  ScratchDir dir;
  write_text(dir / "run.yaml", yaml);
  try {
    load_run_config(dir / "run.yaml", with_short_samples(overrides));
  } catch (const ConfigError& e) {
    return e.issues();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << yaml;
  return {};
}

// The config `yaml` (with `overrides`) resolves to; a ConfigError fails the test, showing why.
RunConfig load(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  ScratchDir dir;
  write_text(dir / "run.yaml", yaml);
  try {
    return load_run_config(dir / "run.yaml", with_short_samples(overrides));
  } catch (const ConfigError& e) {
    ADD_FAILURE() << e.describe() << "\nfor:\n" << yaml;
    return {};
  }
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Loads `yaml`, prints the config, reads the print back, and checks it prints the same.
std::string round_trip(const std::string& yaml) {
  ScratchDir dir;
  const std::string printed = ankh::trainer::to_yaml(load(yaml));
  write_text(dir / "printed.yaml", printed);
  try {
    EXPECT_EQ(ankh::trainer::to_yaml(load_run_config(dir / "printed.yaml", {})), printed);
  } catch (const ConfigError& e) {
    ADD_FAILURE() << e.describe() << "\nfor the printed config:\n" << printed;
  }
  return printed;
}

}  // namespace

TEST(ConfigList, NumbersTakeOneNumberOrAList) {
  EXPECT_EQ(load("objective:\n  mask_prob: 0.3\n").objective.single.mask_prob, std::vector<double>{0.3});
  EXPECT_EQ(load("objective:\n  mask_prob: [0.15, 0.2, 0.3]\n").objective.single.mask_prob,
            (std::vector<double>{0.15, 0.2, 0.3}));
  EXPECT_EQ(load("objective:\n  mask_prob:\n    - 0.1\n    - 0.4\n").objective.single.mask_prob,
            (std::vector<double>{0.1, 0.4}));  // block style too
  EXPECT_EQ(load("", {"objective.mask_prob=[0.15,0.3]"}).objective.single.mask_prob, (std::vector<double>{0.15, 0.3}));
  EXPECT_EQ(load("").objective.single.mask_prob, std::vector<double>{0.2});  // the default
}

TEST(ConfigList, NumbersNameTheBadElement) {
  auto issues = issues_of("objective:\n  mask_prob: [0.15, 0.2, 1.5]\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].key, "objective.mask_prob");
  EXPECT_EQ(issues[0].message, "element 2: 1.5 is out of range: must be in (0, 1)");
  EXPECT_TRUE(has(issues[0].origin, "run.yaml:2")) << issues[0].origin;

  issues = issues_of("", {"objective.mask_prob=[0.1, abc]"});
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].message, "element 1: expected a number, got 'abc'");
  EXPECT_EQ(issues[0].origin, "command line");

  issues = issues_of("objective:\n  mask_prob: [[0.1], 0.2]\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].message, "element 0: expected a number, got a list or map");
}

TEST(ConfigList, NumbersRejectEmptyMapsNullAndText) {
  // (A map in a file is a section of keys; from the command line it is a value.)
  for (const char* value : {"[]", "{a: 1}", "", "lots"}) {
    SCOPED_TRACE(value);
    const auto issues = issues_of("", {std::string("objective.mask_prob=") + value});
    ASSERT_EQ(issues.size(), 1u);
    EXPECT_EQ(issues[0].key, "objective.mask_prob");
    EXPECT_TRUE(has(issues[0].message, "expected a number or a non-empty list of numbers")) << issues[0].message;
  }
  EXPECT_TRUE(has(issues_of("objective:\n  mask_prob: 0\n")[0].message, "0 is out of range: must be in (0, 1)"));
}

TEST(ConfigList, ScalarKeysStillRejectLists) {
  const auto issues = issues_of("objective:\n  mean_span_length: [3, 4]\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].message, "expected a number, got a list or map");
}

TEST(ConfigList, MixtureFromAFile) {
  const RunConfig c = load(
      "objective:\n"
      "  mixture:\n"
      "    - {kind: ankh, weight: 3, mask_prob: [0.15, 0.3]}\n"
      "    - kind: completion\n"
      "      prefix_token: \"[S2S]\"\n");
  const auto& m = c.objective.mixture;
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].kind, ObjectiveKind::Ankh);
  EXPECT_DOUBLE_EQ(m[0].weight, 3);
  EXPECT_EQ(m[0].mask_prob, (std::vector<double>{0.15, 0.3}));
  EXPECT_EQ(m[1].kind, ObjectiveKind::Completion);
  EXPECT_DOUBLE_EQ(m[1].weight, 1);                        // omitted: the default
  EXPECT_EQ(m[1].mask_prob, std::vector<double>{0.2});
  EXPECT_EQ(m[1].prefix_token, "[S2S]");
  EXPECT_TRUE(c.objective.is_mixture());
}

TEST(ConfigList, MixtureFromTheCommandLine) {
  const RunConfig c = load("", {"objective.mixture=[{kind: ankh, weight: 1}, {kind: t5_span, weight: 2, mask_prob: 0.15}]"});
  ASSERT_EQ(c.objective.mixture.size(), 2u);
  EXPECT_EQ(c.objective.mixture[1].kind, ObjectiveKind::T5Span);
  EXPECT_DOUBLE_EQ(c.objective.mixture[1].weight, 2);
  EXPECT_EQ(c.objective.mixture[1].mask_prob, std::vector<double>{0.15});

  // The command line replaces a file's list whole.
  const RunConfig d = load("objective:\n  mixture: [{kind: ankh}, {kind: completion}]\n",
                           {"objective.mixture=[{kind: t5_span}]"});
  ASSERT_EQ(d.objective.mixture.size(), 1u);
  EXPECT_EQ(d.objective.mixture[0].kind, ObjectiveKind::T5Span);
}

TEST(ConfigList, EmptyOrNullMixtureIsTheSingleObjective) {
  for (const char* value : {"[]", "", "~"}) {
    SCOPED_TRACE(value);
    const RunConfig c = load(std::string("objective:\n  kind: t5_span\n  mixture: ") + value + "\n");
    EXPECT_FALSE(c.objective.is_mixture());
    EXPECT_EQ(c.objective.single.kind, ObjectiveKind::T5Span);
  }
}

TEST(ConfigList, UnknownKeyInAnElementIsNamedAndSuggested) {
  const auto issues = issues_of("objective:\n  mixture:\n    - {kind: ankh, wieght: 2}\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].key, "objective.mixture[0].wieght");
  EXPECT_EQ(issues[0].message, "unknown key");
  EXPECT_EQ(issues[0].hint, "did you mean objective.mixture[0].weight?");
  EXPECT_TRUE(has(issues[0].origin, "run.yaml:2")) << issues[0].origin;

  // Nothing near: the element's keys are listed.
  const auto far = issues_of("", {"objective.mixture=[{kind: ankh, colour: blue}]"});
  ASSERT_EQ(far.size(), 1u);
  EXPECT_EQ(far[0].key, "objective.mixture[0].colour");
  EXPECT_TRUE(has(far[0].hint, "kind, weight, mask_prob")) << far[0].hint;
}

TEST(ConfigList, WeightMustBePositive) {
  for (const char* weight : {"0", "-1"}) {
    SCOPED_TRACE(weight);
    const auto issues =
        issues_of(std::string("objective:\n  mixture: [{kind: ankh}, {kind: completion, weight: ") + weight + "}]\n");
    ASSERT_EQ(issues.size(), 1u);
    EXPECT_EQ(issues[0].key, "objective.mixture[1].weight");
    EXPECT_EQ(issues[0].message, std::string(weight) + " is out of range: must be in (0, inf)");
  }
}

TEST(ConfigList, UnknownKindIsSuggested) {
  const auto issues = issues_of("", {"objective.mixture=[{kind: ankh}, {kind: completoin}]"});
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].key, "objective.mixture[1].kind");
  EXPECT_EQ(issues[0].origin, "command line");
  EXPECT_EQ(issues[0].hint, "did you mean completion?");
}

TEST(ConfigList, ElementsMustBeMapsAndTheListAList) {
  auto issues = issues_of("objective:\n  mixture: [ankh, {kind: ankh}]\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].key, "objective.mixture[0]");
  EXPECT_EQ(issues[0].message, "expected a map of key: value, got 'ankh'");

  issues = issues_of("", {"objective.mixture=ankh"});
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].key, "objective.mixture");
  EXPECT_EQ(issues[0].message, "expected a list of maps, got 'ankh'");

  // A value inside an element that is itself a map.
  issues = issues_of("objective:\n  mixture: [{kind: ankh, mask_prob: {lo: 0.1}}]\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].key, "objective.mixture[0].mask_prob");
  EXPECT_TRUE(has(issues[0].message, "got a map")) << issues[0].message;

  // A map where the list belongs, and one element set on its own: a list is given whole.
  for (const auto& [yaml, cli] : std::vector<std::pair<std::string, std::string>>{
           {"objective:\n  mixture:\n    kind: ankh\n", ""}, {"", "objective.mixture[0].weight=2"}}) {
    issues = issues_of(yaml, cli.empty() ? std::vector<std::string>{} : std::vector<std::string>{cli});
    ASSERT_EQ(issues.size(), 1u) << yaml << cli;
    EXPECT_TRUE(has(issues[0].message, "objective.mixture is a list of maps, given whole")) << issues[0].message;
  }
}

TEST(ConfigList, MixtureWithASingleObjectiveKeyNamesBoth) {
  const auto issues = issues_of("objective:\n  kind: t5_span\n  mixture: [{kind: ankh}]\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].key, "objective.kind");
  EXPECT_TRUE(has(issues[0].message, "objective.mixture")) << issues[0].message;
}

TEST(ConfigList, PrintedMixtureReadsBack) {
  const std::string printed = round_trip(
      "objective:\n"
      "  mixture:\n"
      "    - {kind: ankh, weight: 3, mask_prob: [0.15, 0.3]}\n"
      "    - {kind: completion, weight: 1, prefix_token: \"[S2S]\", prefix_fraction: [0.3, 0.7]}\n");
  // The single objective's keys are replaced by the mixture and not printed.
  EXPECT_FALSE(has(printed, "\n  kind:")) << printed;
  EXPECT_FALSE(has(printed, "\n  mask_prob:")) << printed;
  EXPECT_TRUE(has(printed, "  mixture:\n    - {kind: ankh, weight: 3.0, mask_prob: [0.15, 0.3], ")) << printed;
  EXPECT_TRUE(has(printed, "prefix_fraction: [0.3, 0.7]")) << printed;
  EXPECT_TRUE(has(printed, "prefix_token: \"[S2S]\"}")) << printed;
}

TEST(ConfigList, PrintedMultiRateMaskReadsBack) {
  const std::string printed = round_trip("objective:\n  mask_prob: [0.15, 0.2, 0.3]\n");
  EXPECT_TRUE(has(printed, "  mask_prob: [0.15, 0.2, 0.3]\n")) << printed;
  EXPECT_TRUE(has(printed, "  mixture: []\n")) << printed;
  EXPECT_TRUE(has(round_trip(""), "  mask_prob: 0.2\n"));
}

TEST(ConfigList, HelpKeysListTheElementKeys) {
  const auto schema = ankh::core::schema_of<RunConfig>();
  const std::string help = ankh::core::describe_schema(schema);
  EXPECT_TRUE(has(help, "objective.mixture = []  (list of maps)")) << help;
  EXPECT_TRUE(has(help, "objective.mixture[].prefix_token = ")) << help;
  EXPECT_TRUE(has(help, "objective.mixture[].weight = 1.0")) << help;
  EXPECT_TRUE(has(help, "objective.mask_prob = 0.2  (number or list of numbers in (0, 1))")) << help;
  // The element keys are documentation: no setting has such a key, so none is found or suggested.
  EXPECT_TRUE(schema.find("objective.mixture"));
  EXPECT_FALSE(schema.find("objective.mixture[].kind"));
  for (const auto& key : schema.keys()) EXPECT_FALSE(has(key, "[]")) << key;
}
