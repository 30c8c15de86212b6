// Sweep files and plans: grid crossing, variants, run names, and strict validation (every problem
// at once, with file:line and the nearest key) before anything runs.
#include <gtest/gtest.h>

#include "core/error.h"
#include "tests/support/test_support.h"
#include "trainer/app/sweep/sweep_file.h"
#include "trainer/app/sweep/sweep_plan.h"

using namespace ankh::sweep;
using ankh::core::ConfigError;
using ankh::testing::ScratchDir;
using ankh::testing::write_text;
namespace fs = std::filesystem;

namespace {

// A base run config and a sweep file beside it.
struct Fixture {
  ScratchDir dir{"ankh-sweep-plan"};
  Fixture() {
    write_text(dir / "base.yaml",
               "model:\n  d_model: 64\n  num_heads: 2\n  d_kv: 32\n  d_ff: 128\n  encoder_layers: 2\n"
               "  decoder_layers: 1\ntrain:\n  global_batch: 8\n  micro_batch: 4\n  max_steps: 10\n");
  }
  std::vector<PlannedRun> plan(const std::string& sweep_text, int world = 1, std::vector<std::string> cli = {}) {
    write_text(dir / "sweep.yaml", sweep_text);
    return plan_sweep(read_sweep_file(dir / "sweep.yaml"), {dir / "out", world, std::move(cli)});
  }
  // All issues (as "key|origin|message|hint" lines) of the ConfigError planning throws.
  std::string errors(const std::string& sweep_text, int world = 1, std::vector<std::string> cli = {}) {
    try {
      plan(sweep_text, world, std::move(cli));
    } catch (const ConfigError& e) {
      std::string out;
      for (const auto& i : e.issues()) out += i.key + "|" + i.origin + "|" + i.message + "|" + i.hint + "\n";
      return out;
    }
    ADD_FAILURE() << "expected a ConfigError for:\n" << sweep_text;
    return {};
  }
};

std::vector<std::string> names(const std::vector<PlannedRun>& runs) {
  std::vector<std::string> out;
  for (const auto& r : runs) out.push_back(r.name);
  return out;
}

Assignment assign(const std::string& key, const std::string& value) { return {key, {value, false, true, ""}}; }

}  // namespace

TEST(SweepPlan, GridIsCrossedLastAxisFastestAndNamedAfterOverrides) {
  Fixture f;
  const auto runs = f.plan(
      "base: base.yaml\n"
      "overrides:\n  train.max_steps: 5\n"
      "grid:\n  objective.mask_prob: [0.1, 0.2]\n  model.activation: [gated-gelu, relu]\n");
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(names(runs), (std::vector<std::string>{"mask_prob-0.1__activation-gated-gelu", "mask_prob-0.1__activation-relu",
                                                   "mask_prob-0.2__activation-gated-gelu", "mask_prob-0.2__activation-relu"}));
  EXPECT_EQ(runs[2].config.objective.single.mask_prob, std::vector<double>{0.2});
  EXPECT_EQ(runs[3].config.model.activation, ankh::model::Activation::Relu);
  EXPECT_EQ(runs[0].config.train.max_steps, 5);   // overrides: apply to every run
  EXPECT_EQ(runs[0].config.model.d_model, 64);    // from the base
  EXPECT_EQ(runs[1].dir, f.dir / "out" / "mask_prob-0.1__activation-relu");
  EXPECT_EQ(runs[1].config.run.dir, runs[1].dir.string());
}

TEST(SweepPlan, VariantsAreRunsOfTheirOwnAndCrossTheGrid) {
  Fixture f;
  auto runs = f.plan(
      "base: base.yaml\n"
      "variants:\n  - {}\n  - {model.encoder_layers: 3, model.decoder_layers: 2}\n"
      "  - model:\n      activation: relu\n");
  EXPECT_EQ(names(runs), (std::vector<std::string>{"base", "encoder_layers-3__decoder_layers-2", "activation-relu"}));
  EXPECT_EQ(runs[1].config.model.encoder_layers, 3);
  EXPECT_EQ(runs[2].config.model.activation, ankh::model::Activation::Relu);  // nested maps are flattened to dotted keys

  runs = f.plan("base: base.yaml\ngrid:\n  run.seed: [1, 2]\nvariants:\n  - {objective.kind: ankh}\n  - {objective.kind: t5_span}\n");
  EXPECT_EQ(names(runs), (std::vector<std::string>{"seed-1__kind-ankh", "seed-1__kind-t5_span", "seed-2__kind-ankh",
                                                   "seed-2__kind-t5_span"}));
}

TEST(SweepPlan, RunNamesAreFilesystemSafeDeterministicAndBounded) {
  EXPECT_EQ(run_name({}), "base");
  EXPECT_EQ(run_name({assign("objective.mask_prob", "0.2"), assign("model.encoder_layers", "4")}),
            "mask_prob-0.2__encoder_layers-4");
  EXPECT_EQ(run_name({assign("model.init_from", "/data/hf models/x:1")}), "init_from-_data_hf_models_x_1");
  EXPECT_EQ(run_name({assign("optim.beta1", "0.9")}, {"optim.beta1"}), "optim.beta1-0.9");

  const std::vector<Assignment> long_a = {assign("model.init_from", std::string(200, 'a') + "1")};
  const std::vector<Assignment> long_b = {assign("model.init_from", std::string(200, 'a') + "2")};
  const std::string a = run_name(long_a), b = run_name(long_b);
  EXPECT_LE(a.size(), 96u);
  EXPECT_NE(a, b);                  // the hash of the full text keeps them apart
  EXPECT_EQ(a, run_name(long_a));   // and the same overrides always give the same name
}

TEST(SweepPlan, ListValuesInTheGridAndInVariantsGetDistinctStableNames) {
  Fixture f;
  // A grid axis whose values are lists (or one number).
  auto runs = f.plan("base: base.yaml\ngrid:\n  objective.mask_prob: [0.2, [0.15, 0.2], [0.1, 0.15, 0.2]]\n");
  EXPECT_EQ(names(runs), (std::vector<std::string>{"mask_prob-0.2", "mask_prob-0.15_0.2", "mask_prob-0.1_0.15_0.2"}));
  EXPECT_EQ(runs[1].config.objective.single.mask_prob, (std::vector<double>{0.15, 0.2}));
  EXPECT_EQ(describe_overrides(runs[2].varying), "objective.mask_prob=[0.1, 0.15, 0.2]");

  // Variants that set a list of maps, in flow or block style.
  const std::string variants =
      "base: base.yaml\n"
      "variants:\n"
      "  - {}\n"
      "  - {objective.mixture: [{kind: ankh, weight: 3}, {kind: completion, prefix_token: \"[S2S]\"}]}\n"
      "  - objective:\n"
      "      mixture:\n"
      "        - {kind: ankh, mask_prob: [0.1, 0.2]}\n";
  runs = f.plan(variants);
  EXPECT_EQ(names(runs), (std::vector<std::string>{"base", "mixture-kind_ankh_weight_3_kind_completion_prefix_token_S2S",
                                                   "mixture-kind_ankh_mask_prob_0.1_0.2"}));
  ASSERT_EQ(runs[1].config.objective.mixture.size(), 2u);
  EXPECT_EQ(runs[1].config.objective.mixture[1].prefix_token, "[S2S]");
  EXPECT_EQ(runs[2].config.objective.mixture[0].mask_prob, (std::vector<double>{0.1, 0.2}));
  EXPECT_EQ(describe_overrides(runs[2].varying), "objective.mixture=[{kind: ankh, mask_prob: [0.1, 0.2]}]");
  EXPECT_EQ(names(f.plan(variants)), names(runs));  // a pure function of the overrides

  // A long list is cut and hashed like any long value; different lists keep different names.
  std::string long_a = "[", long_b = "[";
  for (int i = 0; i < 12; ++i) {
    long_a += std::string(i ? ", " : "") + "{kind: ankh, weight: " + std::to_string(i + 1) + "}";
    long_b += std::string(i ? ", " : "") + "{kind: ankh, weight: " + std::to_string(i + 2) + "}";
  }
  runs = f.plan("base: base.yaml\nvariants:\n  - {objective.mixture: " + long_a + "]}\n  - {objective.mixture: " +
                long_b + "]}\n");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_LE(runs[0].name.size(), 96u);
  EXPECT_NE(runs[0].name, runs[1].name);
}

TEST(SweepPlan, ListValuesAreComparedByTheirText) {
  Fixture f;
  std::string e = f.errors("base: base.yaml\ngrid:\n  objective.mask_prob: [[0.1, 0.2], [0.1,   0.2]]\n");
  EXPECT_NE(e.find("value '[0.1, 0.2]' is listed twice"), std::string::npos) << e;

  e = f.errors("base: base.yaml\nvariants:\n  - {objective.mixture: [{kind: ankh}]}\n"
               "  - objective.mixture:\n      - kind: ankh\n");
  EXPECT_NE(e.find("two runs have the same overrides (objective.mixture=[{kind: ankh}])"), std::string::npos) << e;

  // A list for a key that takes one value: the config reader's error, and where values to sweep go.
  e = f.errors("base: base.yaml\noverrides: {run.seed: [1, 2]}\nvariants:\n  - {}\n  - {model.d_ff: 256}\n");
  EXPECT_NE(e.find("run.seed|" + (f.dir / "sweep.yaml").string() +
                   ":2|expected an integer, got a list or map|to run one value after another, list the values under grid:"),
            std::string::npos) << e;
}

TEST(SweepPlan, KeysAreShortenedToTheirLastComponent) {
  // No two config keys share a last component today; run_name() names such keys in full when the
  // planner passes them (tested above), so a future clash cannot make two runs share a directory.
  Fixture f;
  const auto runs = f.plan("base: base.yaml\ngrid:\n  optim.beta1: [0.8, 0.9]\n  optim.adafactor_beta1: [0.0]\n");
  EXPECT_EQ(runs[0].name, "beta1-0.8__adafactor_beta1-0.0");
}

TEST(SweepPlan, ValuesThatSanitiseToOneNameGetAHashEach) {
  Fixture f;
  const auto runs = f.plan("base: base.yaml\ngrid:\n  model.init_from: ['a/b', 'a_b']\n");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_NE(runs[0].name, runs[1].name);
  EXPECT_EQ(runs[0].name.rfind("init_from-a_b-", 0), 0u) << runs[0].name;
}

TEST(SweepPlan, UnknownKeysAreErrorsForTheWholeSweepWithFileLineAndSuggestion) {
  Fixture f;
  const std::string e = f.errors(
      "base: base.yaml\n"
      "overrides:\n  train.max_step: 5\n"
      "grid:\n  objective.mask_porb: [0.1, 0.2]\n");
  // Shared by every run: reported once, at the line of the sweep file, with the nearest key.
  EXPECT_NE(e.find("train.max_step|" + (f.dir / "sweep.yaml").string() + ":3|unknown key|did you mean train.max_steps?"),
            std::string::npos) << e;
  EXPECT_NE(e.find("objective.mask_porb|" + (f.dir / "sweep.yaml").string() + ":5|unknown key|did you mean objective.mask_prob?"),
            std::string::npos) << e;
  EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 2) << e;
}

TEST(SweepPlan, ABadValueNamesTheRunsItBreaks) {
  Fixture f;
  const std::string e = f.errors("base: base.yaml\ngrid:\n  objective.mask_prob: [0.2, 1.5]\n  run.seed: [1, 2]\n");
  EXPECT_NE(e.find("objective.mask_prob|" + (f.dir / "sweep.yaml").string() + ":3|1.5 is out of range"), std::string::npos) << e;
  EXPECT_NE(e.find("(in runs mask_prob-1.5__seed-1, mask_prob-1.5__seed-2)"), std::string::npos) << e;
}

TEST(SweepPlan, GlobalBatchMustSplitOverTheRanks) {
  Fixture f;
  EXPECT_EQ(f.plan("base: base.yaml\ngrid:\n  run.seed: [1]\n", 2).size(), 1u);  // 8 = 2 x 4
  const std::string e = f.errors("base: base.yaml\ngrid:\n  run.seed: [1]\n", 4);
  EXPECT_NE(e.find("train.global_batch|"), std::string::npos) << e;
  EXPECT_NE(e.find("8 is not a multiple of 4 ranks x train.micro_batch 4"), std::string::npos) << e;
}

TEST(SweepPlan, StructureErrorsAreAllReportedAtOnce) {
  Fixture f;
  const std::string e = f.errors(
      "bsae: base.yaml\n"
      "grid:\n  run.seed: 3\n  objective.kind: []\n"
      "variants: {model.activation: relu}\n"
      "train.max_steps: 4\n");
  EXPECT_NE(e.find("bsae|"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean base?"), std::string::npos) << e;
  EXPECT_NE(e.find("base|" + (f.dir / "sweep.yaml").string() + "|missing"), std::string::npos) << e;
  EXPECT_NE(e.find("run.seed|" + (f.dir / "sweep.yaml").string() + ":3|in grid: expected a list of values"), std::string::npos) << e;
  EXPECT_NE(e.find("objective.kind|"), std::string::npos) << e;
  EXPECT_NE(e.find("variants|"), std::string::npos) << e;
  EXPECT_NE(e.find("config keys belong under overrides:"), std::string::npos) << e;
}

TEST(SweepPlan, ContradictionsAndDuplicatesAreErrors) {
  Fixture f;
  std::string e = f.errors("base: base.yaml\ngrid:\n  run.seed: [1, 2]\nvariants:\n  - {run.seed: 3}\n");
  EXPECT_NE(e.find("is both a grid axis and set by a variant"), std::string::npos) << e;

  e = f.errors("base: base.yaml\nvariants:\n  - {run.seed: 3}\n  - {run.seed: 3}\n");
  EXPECT_NE(e.find("two runs have the same overrides (run.seed=3)"), std::string::npos) << e;

  e = f.errors("base: base.yaml\noverrides: {run.dir: x}\ngrid:\n  run.seed: [1]\n");
  EXPECT_NE(e.find("run.dir|"), std::string::npos) << e;
  EXPECT_NE(e.find("--output"), std::string::npos) << e;

  e = f.errors("base: base.yaml\ngrid:\n  run.seed: [1, 1]\n");
  EXPECT_NE(e.find("listed twice"), std::string::npos) << e;

  e = f.errors("base: base.yaml\ngrid:\n  run.seed: [1, 2]\n", 1, {"run.seed=5"});
  EXPECT_NE(e.find("run.seed|command line|is varied by the sweep"), std::string::npos) << e;

  e = f.errors("base: missing.yaml\ngrid:\n  run.seed: [1]\n");
  EXPECT_NE(e.find("run config not found"), std::string::npos) << e;

  e = f.errors("base: base.yaml\n");
  EXPECT_NE(e.find("nothing to sweep"), std::string::npos) << e;
}

TEST(SweepPlan, CommandLineOverridesApplyToEveryRun) {
  Fixture f;
  const auto runs = f.plan("base: base.yaml\noverrides: {train.max_steps: 5}\ngrid:\n  run.seed: [1, 2]\n", 1,
                           {"train.max_steps=7"});
  EXPECT_EQ(runs[0].config.train.max_steps, 7);
  EXPECT_EQ(runs[1].config.train.max_steps, 7);
}

TEST(SweepPlan, MissingOrMalformedSweepFiles) {
  ScratchDir dir;
  EXPECT_THROW(read_sweep_file(dir / "nope.yaml"), ankh::core::IoError);
  write_text(dir / "bad.yaml", "grid: [\n");
  try {
    read_sweep_file(dir / "bad.yaml");
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(e.describe().find("invalid YAML"), std::string::npos) << e.describe();
    EXPECT_NE(e.describe().find("bad.yaml:"), std::string::npos) << e.describe();
  }
}

TEST(SweepPlan, ShippedSweepsPlan) {
  // Every sweep in configs/sweeps/ is valid at the world size it documents (2 CPU ranks).
  const fs::path dir = ankh::testing::source_dir() / "configs" / "sweeps";
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++seen;
    SCOPED_TRACE(entry.path().string());
    EXPECT_NO_THROW({
      const auto runs = plan_sweep(read_sweep_file(entry.path()), {"/tmp/unused", 2, {}});
      EXPECT_GE(runs.size(), 2u);
    });
  }
  EXPECT_GE(seen, 6);
}
