// Objective mixtures, multi-rate masking, sequence completion and task tokens: the realised task
// and rate frequencies follow the config (chi-square over 100,000 samples), completion rebuilds
// the sample, the length functions agree with the examples, a single objective is unchanged, the
// loader gives the same global batches on 1 and 2 ranks, and every bad setting is named.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/error.h"
#include "data/loader.h"
#include "data/objectives/completion.h"
#include "data/objectives/demasking.h"
#include "data/objectives/mixture.h"
#include "data/vocab.h"
#include "tests/support/test_support.h"
#include "tests/unit/data_test_util.h"

using namespace ankh;
using namespace ankh::data;

namespace {

constexpr int64_t kSamples = 100000;

std::vector<uint8_t> random_sequence(std::mt19937_64& rng, int64_t n) {
  std::uniform_int_distribution<int> residue(static_cast<int>(kFirstResidue), static_cast<int>(kFirstResidue + 19));
  std::vector<uint8_t> s(static_cast<std::size_t>(n));
  for (auto& t : s) t = static_cast<uint8_t>(residue(rng));
  return s;
}

TaskConfig task(ObjectiveKind kind, double weight = 1, std::vector<double> mask_prob = {0.2}, std::string token = "") {
  TaskConfig t;
  t.kind = kind;
  t.weight = weight;
  t.mask_prob = std::move(mask_prob);
  t.prefix_token = std::move(token);
  return t;
}

ObjectiveConfig mixture_of(std::vector<TaskConfig> tasks) {
  ObjectiveConfig c;
  c.mixture = std::move(tasks);
  return c;
}

// Pearson's chi-square statistic of `observed` counts against expected probabilities.
double chi_square(const std::vector<int64_t>& observed, const std::vector<double>& probabilities) {
  int64_t n = 0;
  for (int64_t o : observed) n += o;
  double x2 = 0;
  for (std::size_t i = 0; i < observed.size(); ++i) {
    const double expected = probabilities[i] * static_cast<double>(n);
    x2 += (static_cast<double>(observed[i]) - expected) * (static_cast<double>(observed[i]) - expected) / expected;
  }
  return x2;
}

// The chi-square value exceeded with probability 0.001, by degrees of freedom (1 to 4).
double critical_0001(std::size_t dof) {
  static const double table[] = {0, 10.828, 13.816, 16.266, 18.467};
  return table[dof];
}

}  // namespace

TEST(DataMixture, TaskFrequenciesFollowTheWeights) {
  const ObjectiveConfig c = mixture_of({task(ObjectiveKind::Ankh, 3), task(ObjectiveKind::FullReconstruction, 1.5),
                                        task(ObjectiveKind::Completion, 0.5)});
  const TaskMixture mixture(c);
  std::vector<int64_t> counts(3, 0);
  for (int64_t i = 0; i < kSamples; ++i) ++counts[mixture.task_of(objective_seed(42, 3, i))];
  const double x2 = chi_square(counts, {0.6, 0.3, 0.1});
  EXPECT_LT(x2, critical_0001(2)) << counts[0] << " " << counts[1] << " " << counts[2];

  // The test can fail: the same counts are far from other weights.
  EXPECT_GT(chi_square(counts, {0.5, 0.3, 0.2}), critical_0001(2));
}

TEST(DataMixture, MultiRateMaskingDrawsEachRateEquallyOften) {
  // 100 residues: rates 0.15, 0.2, 0.3 mask 15, 20 and 30 residues, so each example shows its rate.
  for (ObjectiveKind kind : {ObjectiveKind::Ankh, ObjectiveKind::FullReconstruction}) {
    SCOPED_TRACE(name_of(kind));
    ObjectiveConfig c;
    c.single = task(kind, 1, {0.15, 0.2, 0.3});
    const TaskMixture objective(c);
    std::mt19937_64 rng(7);
    const auto seq = random_sequence(rng, 100);
    std::vector<int64_t> counts(3, 0);
    Example e;
    for (int64_t i = 0; i < kSamples; ++i) {
      const uint64_t seed = objective_seed(1, 0, i);
      objective.apply(TokenView(seq), seed, e);
      ASSERT_EQ(static_cast<int64_t>(e.target.size()), objective.target_length(100, seed));
      const auto masked = std::count_if(e.input.begin(), e.input.end(), [](uint8_t t) { return is_sentinel(t); });
      ASSERT_TRUE(masked == 15 || masked == 20 || masked == 30) << masked;
      ++counts[masked == 15 ? 0 : masked == 20 ? 1 : 2];
    }
    EXPECT_LT(chi_square(counts, {1.0 / 3, 1.0 / 3, 1.0 / 3}), critical_0001(2)) << counts[0] << " " << counts[1] << " " << counts[2];
  }
}

TEST(DataMixture, ASingleObjectiveMasksExactlyAsBefore) {
  // A single objective (or a mixture of one task with one rate) draws nothing extra: the sample
  // seed goes to the task unchanged, so existing runs keep their examples.
  ObjectiveConfig single;
  single.single = task(ObjectiveKind::Ankh, 1, {0.2});
  const TaskMixture a(single);
  const TaskMixture b(mixture_of({task(ObjectiveKind::Ankh, 5, {0.2})}));
  const AnkhDemasking direct({0.2});
  std::mt19937_64 rng(3);
  Example ea, eb, ed;
  for (int i = 0; i < 200; ++i) {
    const auto seq = random_sequence(rng, 1 + i);
    const uint64_t seed = rng();
    a.apply(TokenView(seq), seed, ea);
    b.apply(TokenView(seq), seed, eb);
    direct.apply(TokenView(seq), seed, ed);
    ASSERT_EQ(ea.input, ed.input);
    ASSERT_EQ(ea.target, ed.target);
    ASSERT_EQ(eb.input, ed.input);
    ASSERT_EQ(eb.target, ed.target);
    ASSERT_EQ(ea.task, 0);
  }
  EXPECT_STREQ(a.name(), "ankh");
}

TEST(DataMixture, CompletionInputAndTargetRebuildTheSample) {
  std::mt19937_64 rng(11);
  const SequenceCompletion drawn({0.3, 0.7}, 0), fixed_fraction({0.25}, 0), fixed_length({0.5}, 40);
  Example e;
  for (int64_t n = 1; n <= 300; ++n) {
    for (int rep = 0; rep < 20; ++rep) {
      const auto seq = random_sequence(rng, n);
      const uint64_t seed = rng();
      for (const SequenceCompletion* objective : {&drawn, &fixed_fraction, &fixed_length}) {
        objective->apply(TokenView(seq), seed, e);
        ASSERT_EQ(e.input.back(), kEos);
        ASSERT_EQ(e.target.back(), kEos);
        std::vector<uint8_t> rebuilt(e.input.begin(), e.input.end() - 1);
        rebuilt.insert(rebuilt.end(), e.target.begin(), e.target.end() - 1);
        ASSERT_EQ(rebuilt, seq) << "length " << n;
        ASSERT_EQ(static_cast<int64_t>(e.input.size()), objective->input_length(n, seed));
        ASSERT_EQ(static_cast<int64_t>(e.target.size()), objective->target_length(n, seed));
        const int64_t k = static_cast<int64_t>(e.input.size()) - 1;
        if (n == 1) {
          ASSERT_EQ(k, 0);  // nothing to split: the decoder writes the one residue
          continue;
        }
        ASSERT_GE(k, 1);      // both parts hold a residue
        ASSERT_LE(k, n - 1);
        if (objective == &fixed_length) {
          ASSERT_EQ(k, std::min<int64_t>(40, n - 1));
        }
        if (objective == &fixed_fraction) {
          ASSERT_EQ(k, std::clamp<int64_t>(std::llround(0.25 * n), 1, n - 1));
        }
        if (objective == &drawn && n >= 10) {
          ASSERT_GE(k, std::llround(0.3 * n) - 1);
          ASSERT_LE(k, std::llround(0.7 * n) + 1);
        }
      }
    }
  }
}

TEST(DataMixture, CompletionSplitIsUniformOverThePrefixFraction) {
  const SequenceCompletion objective({0.3, 0.7}, 0);
  std::vector<int64_t> counts(4, 0);
  for (int64_t i = 0; i < kSamples; ++i) {
    const double f = static_cast<double>(objective.prefix(100000, objective_seed(5, 0, i))) / 100000;
    ASSERT_GE(f, 0.3);
    ASSERT_LE(f, 0.7);
    ++counts[std::min<std::size_t>(3, static_cast<std::size_t>((f - 0.3) / 0.1))];
  }
  EXPECT_LT(chi_square(counts, {0.25, 0.25, 0.25, 0.25}), critical_0001(3));
}

TEST(DataMixture, TaskTokensLeadTheEncoderInputAndLengthsAgree) {
  const ObjectiveConfig c = mixture_of({task(ObjectiveKind::Ankh, 2, {0.15, 0.3}, "[NLU]"),
                                        task(ObjectiveKind::Completion, 1, {0.2}, "[S2S]"),
                                        task(ObjectiveKind::T5Span, 1, {0.15}), task(ObjectiveKind::FullReconstruction, 1, {0.2}, "[NLU]")});
  EXPECT_EQ(c.task_tokens(), (std::vector<std::string>{"[NLU]", "[S2S]"}));
  EXPECT_EQ(c.reserved_input_tokens(), 2);
  EXPECT_EQ(vocab_size_for(2), 160);
  const TaskMixture mixture(c);
  EXPECT_STREQ(mixture.name(), "mixture");
  const int expected_token[] = {144, 145, -1, 144};
  std::mt19937_64 rng(13);
  std::vector<int64_t> seen(4, 0);
  Example e;
  for (int i = 0; i < 4000; ++i) {
    const int64_t n = 1 + i % 300;
    const auto seq = random_sequence(rng, n);
    const uint64_t seed = rng();
    mixture.apply(TokenView(seq), seed, e);
    ASSERT_EQ(static_cast<std::size_t>(e.task), mixture.task_of(seed));
    ++seen[static_cast<std::size_t>(e.task)];
    ASSERT_EQ(static_cast<int64_t>(e.input.size()), mixture.input_length(n, seed));
    ASSERT_EQ(static_cast<int64_t>(e.target.size()), mixture.target_length(n, seed));
    const int token = expected_token[e.task];
    if (token >= 0) ASSERT_EQ(e.input.front(), token);
    else ASSERT_LT(e.input.front(), kVocabSize);
    for (std::size_t t = token >= 0 ? 1 : 0; t < e.input.size(); ++t) ASSERT_LT(e.input[t], kVocabSize);
    for (uint8_t t : e.target) ASSERT_LT(t, kVocabSize);
  }
  for (int64_t count : seen) EXPECT_GT(count, 400);
  EXPECT_EQ(decode({144, 3, 1}, c.task_tokens()), "[NLU]A</s>");
}

TEST(DataMixture, EveryBadSettingIsNamed) {
  DataConfig data;
  data.max_length = 512;
  auto issues_of = [&](const ObjectiveConfig& c) {
    core::IssueList issues;
    c.validate(issues);
    validate_objective(c, data, issues);
    std::vector<std::string> keys;
    for (const auto& i : issues.issues()) keys.push_back(i.key + ": " + i.message + " (" + i.hint + ")");
    return keys;
  };
  auto has = [](const std::vector<std::string>& keys, const std::string& text) {
    return std::any_of(keys.begin(), keys.end(), [&](const std::string& k) { return k.find(text) != std::string::npos; });
  };
  // The sentinel budget of the task that could exceed it (0.25 x 510 residues = 128 > 116).
  auto keys = issues_of(mixture_of({task(ObjectiveKind::Ankh, 1, {0.2}), task(ObjectiveKind::Ankh, 1, {0.1, 0.25}, "[NLU]")}));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_TRUE(has(keys, "objective.mixture[1].mask_prob: objective 'ankh' would need 128 sentinels")) << keys[0];
  EXPECT_TRUE(has(keys, "lower objective.mixture[1].mask_prob to 0.228")) << keys[0];

  keys = issues_of(mixture_of({task(ObjectiveKind::T5Span, 1, {0.1, 0.2})}));
  EXPECT_TRUE(has(keys, "objective.mixture[0].mask_prob: t5_span takes one noise density")) << keys.size();

  TaskConfig completion = task(ObjectiveKind::Completion);
  completion.prefix_fraction = {0.7, 0.3};
  keys = issues_of(mixture_of({task(ObjectiveKind::Ankh), completion}));
  EXPECT_TRUE(has(keys, "objective.mixture[1].prefix_fraction: [0.7, 0.3]: lo is above hi"));
  completion.prefix_fraction = {0.1, 0.2, 0.3};
  keys = issues_of(mixture_of({completion}));
  EXPECT_TRUE(has(keys, "objective.mixture[0].prefix_fraction: expected one value or [lo, hi]"));

  for (const std::string& bad : std::vector<std::string>{"A", "<pad>", "<extra_id_3>", "[a b]", std::string(33, 'x')}) {
    ObjectiveConfig single;
    single.single = task(ObjectiveKind::Ankh, 1, {0.2}, bad);
    EXPECT_TRUE(has(issues_of(single), "objective.prefix_token: '" + bad + "'")) << bad;
  }

  std::vector<TaskConfig> many;
  for (int i = 0; i < 33; ++i) many.push_back(task(ObjectiveKind::Ankh, 1, {0.2}, "[T" + std::to_string(i) + "]"));
  EXPECT_TRUE(has(issues_of(mixture_of(many)), "objective.mixture: 33 distinct task tokens; at most 32"));

  data.max_length = 2;  // </s> and the task token leave no residue
  ObjectiveConfig tokened;
  tokened.single = task(ObjectiveKind::Completion, 1, {0.2}, "[S2S]");
  EXPECT_TRUE(has(issues_of(tokened), "data.max_length: 2 leaves no residue"));
}

TEST(DataMixture, OneAndTwoRanksSeeTheSameGlobalBatchesAndCropsFitMaxLength) {
  ankh::testing::ScratchDir dir;
  ankh::testing::make_dataset(dir / "ds", ankh::testing::random_proteins(300, 17, 1, 200), 0.1);
  auto dataset = Dataset::open(dir / "ds");
  LoaderOptions o;
  o.data.max_length = 64;
  o.objective = mixture_of({task(ObjectiveKind::Ankh, 2, {0.15, 0.3}, "[NLU]"), task(ObjectiveKind::Completion, 1, {0.2}, "[S2S]")});
  o.seed = 9;
  o.global_batch = 8;
  o.micro_batch = 2;
  o.background = false;
  struct Seen {
    std::vector<uint8_t> input, target;
    int32_t task;
    bool operator==(const Seen& s) const { return input == s.input && target == s.target && task == s.task; }
  };
  auto global_batch = [&](int world, int64_t step) {
    std::vector<Seen> all;
    for (int r = 0; r < world; ++r) {
      LoaderOptions ro = o;
      ro.rank = r;
      ro.world_size = world;
      ro.micro_batch = o.global_batch / world / 2;
      StepBuilder builder(dataset, ro);
      const PlannedStep ps = builder.build(builder.at_global_step(step));
      for (const auto& e : ps.examples) all.push_back({e.input, e.target, e.task});
      int64_t row = 0;
      for (const Batch& b : ps.batches)
        for (int64_t i = 0; i < b.size(); ++i) EXPECT_EQ(b.tasks[i].item<int64_t>(), ps.examples[static_cast<std::size_t>(row++)].task);
    }
    return all;
  };
  int64_t tasks[2] = {0, 0};
  for (int64_t step : {0, 5, 31, 40}) {  // 270 sequences / 8: step 40 is in the second epoch
    const auto one = global_batch(1, step);
    ASSERT_TRUE(one == global_batch(2, step)) << "step " << step;
    for (const auto& s : one) {
      ASSERT_LE(static_cast<int64_t>(s.input.size()), o.data.max_length);  // the task token fits in max_length
      ++tasks[s.task];
    }
  }
  EXPECT_GT(tasks[0], 0);
  EXPECT_GT(tasks[1], 0);
}
