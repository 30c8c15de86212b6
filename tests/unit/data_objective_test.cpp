// Property tests of the three objectives over thousands of random sequences: exact counts,
// sentinel order, reconstruction, the length functions the loader relies on, flat per-position
// mask frequency (short sequences included), and T5's span statistics.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "core/error.h"
#include "data/objectives/mixture.h"
#include "data/objectives/objective.h"
#include "data/objectives/t5_span.h"
#include "data/vocab.h"

using namespace ankh;
using namespace ankh::data;

namespace {

std::vector<uint8_t> random_sequence(std::mt19937_64& rng, int64_t n) {
  std::uniform_int_distribution<int> residue(static_cast<int>(kFirstResidue), static_cast<int>(kFirstResidue + kNumResidues - 1));
  std::vector<uint8_t> s(static_cast<std::size_t>(n));
  for (auto& t : s) t = static_cast<uint8_t>(residue(rng));
  return s;
}

ObjectiveConfig config(const std::string& kind, double p = 0.2, double span = 3) {
  ObjectiveConfig c;
  c.single.kind = *objective_kinds().parse(kind);
  c.single.mask_prob = {p};
  c.single.mean_span_length = span;
  return c;
}

// The objective the loader runs for a config: the single objective as a mixture of one.
std::unique_ptr<const Objective> make_objective(const ObjectiveConfig& c) { return std::make_unique<TaskMixture>(c); }

// Undoes an objective: the original residues from input and target, or a failure message.
// Also returns the masked positions.
std::vector<uint8_t> reconstruct(const std::string& kind, const Example& e, std::vector<int64_t>& masked) {
  std::vector<uint8_t> out;
  masked.clear();
  if (kind == "full_reconstruction") {
    for (std::size_t i = 0; i + 1 < e.input.size(); ++i)
      if (e.input[i] == sentinel(0)) masked.push_back(static_cast<int64_t>(i));
    return std::vector<uint8_t>(e.target.begin(), e.target.end() - 1);
  }
  // Sentinel k in the input stands for the residues after sentinel k in the target.
  std::map<int64_t, std::vector<uint8_t>> spans;
  int64_t current = -1;
  for (std::size_t i = 0; i + 1 < e.target.size(); ++i) {
    if (is_sentinel(e.target[i])) current = sentinel_index(e.target[i]);
    else spans[current].push_back(e.target[i]);
  }
  for (std::size_t i = 0; i + 1 < e.input.size(); ++i) {
    if (is_sentinel(e.input[i])) {
      for (uint8_t r : spans[sentinel_index(e.input[i])]) {
        masked.push_back(static_cast<int64_t>(out.size()));
        out.push_back(r);
      }
    } else {
      out.push_back(e.input[i]);
    }
  }
  return out;
}

}  // namespace

TEST(DataObjective, MaskedCountIsRoundedAndClamped) {
  EXPECT_EQ(masked_count(1, 0.2), 1);
  EXPECT_EQ(masked_count(2, 0.2), 1);
  EXPECT_EQ(masked_count(10, 0.2), 2);
  EXPECT_EQ(masked_count(12, 0.2), 2);  // 2.4
  EXPECT_EQ(masked_count(13, 0.2), 3);  // 2.6
  EXPECT_EQ(masked_count(511, 0.2), 102);
  EXPECT_EQ(masked_count(4, 0.95), 3);  // never the whole sequence
}

class EveryObjective : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryObjective, PropertiesOverThousandsOfRandomSequences) {
  const std::string kind = GetParam();
  const auto objective = make_objective(config(kind));
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> length(1, 580);  // up to 116 masks at 0.2
  Example e;
  for (int trial = 0; trial < 4000; ++trial) {
    const int64_t n = trial < 300 ? trial % 30 + 1 : length(rng);
    const auto seq = random_sequence(rng, n);
    const uint64_t seed = rng();
    objective->apply(TokenView(seq), seed, e);
    SCOPED_TRACE(kind + " length " + std::to_string(n) + " input " + decode(std::vector<int64_t>(e.input.begin(), e.input.end())));

    ASSERT_EQ(e.input.back(), kEos);
    ASSERT_EQ(e.target.back(), kEos);
    ASSERT_EQ(static_cast<int64_t>(e.input.size()), objective->input_length(n, seed));
    ASSERT_EQ(static_cast<int64_t>(e.target.size()), objective->target_length(n, seed));
    for (std::size_t i = 0; i + 1 < e.input.size(); ++i) ASSERT_NE(e.input[i], kEos);

    // Sentinels: numbered 0, 1, 2, ... left to right in the input, each once, and in the same
    // order in the target (full_reconstruction: only <extra_id_0>, as a mask).
    std::vector<int64_t> in_sentinels, target_sentinels;
    for (std::size_t i = 0; i + 1 < e.input.size(); ++i)
      if (is_sentinel(e.input[i])) in_sentinels.push_back(sentinel_index(e.input[i]));
    for (std::size_t i = 0; i + 1 < e.target.size(); ++i)
      if (is_sentinel(e.target[i])) target_sentinels.push_back(sentinel_index(e.target[i]));
    if (kind == "full_reconstruction") {
      for (int64_t k : in_sentinels) ASSERT_EQ(k, 0);
      ASSERT_TRUE(target_sentinels.empty());
    } else {
      for (std::size_t k = 0; k < in_sentinels.size(); ++k) ASSERT_EQ(in_sentinels[k], static_cast<int64_t>(k));
      ASSERT_EQ(target_sentinels, in_sentinels);
      ASSERT_LE(static_cast<int64_t>(in_sentinels.size()), objective->max_sentinels(n));
    }

    // Decoding the target back into the input gives the original sequence.
    std::vector<int64_t> masked;
    ASSERT_EQ(reconstruct(kind, e, masked), seq);
    // Exactly the configured number of residues is masked.
    ASSERT_EQ(static_cast<int64_t>(masked.size()), masked_count(n, 0.2));

    // A pure function of (tokens, seed).
    Example again;
    objective->apply(TokenView(seq), seed, again);
    ASSERT_EQ(again.input, e.input);
    ASSERT_EQ(again.target, e.target);
  }
}

TEST_P(EveryObjective, EveryPositionIsMaskedEquallyOftenShortSequencesIncluded) {
  const std::string kind = GetParam();
  const auto objective = make_objective(config(kind, 0.15, 3));
  std::mt19937_64 rng(7);
  Example e;
  for (int64_t n : {2, 3, 5, 8, 13, 21, 30, 64, 100}) {
    const auto seq = random_sequence(rng, n);
    const int trials = 20000;
    std::vector<int64_t> hits(static_cast<std::size_t>(n), 0);
    std::set<std::vector<int64_t>> patterns;
    for (int t = 0; t < trials; ++t) {
      objective->apply(TokenView(seq), objective_seed(1234, 0, t), e);
      std::vector<int64_t> masked;
      reconstruct(kind, e, masked);
      for (int64_t i : masked) ++hits[static_cast<std::size_t>(i)];
      if (patterns.size() < 3) patterns.insert(masked);
    }
    // Random, not fixed, masks.
    EXPECT_GE(patterns.size(), 2u) << kind << " n=" << n;
    // Each position is a Binomial(trials, m/n) count: within 5 standard deviations of its mean.
    const double p = static_cast<double>(masked_count(n, 0.15)) / static_cast<double>(n);
    const double mean = trials * p, sd = std::sqrt(trials * p * (1 - p));
    for (int64_t i = 0; i < n; ++i)
      EXPECT_NEAR(static_cast<double>(hits[static_cast<std::size_t>(i)]), mean, 5 * sd + 1)
          << kind << " n=" << n << " position " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, EveryObjective, ::testing::Values("ankh", "t5_span", "full_reconstruction"));

TEST(DataObjective, AnkhMasksSingleResiduesWithTheirOwnSentinels) {
  const auto objective = make_objective(config("ankh", 0.2));
  const std::vector<uint8_t> seq = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12};  // ALGVSREDTI
  Example e;
  objective->apply(TokenView(seq), 99, e);
  ASSERT_EQ(e.target.size(), 5u);  // <extra_id_0> r <extra_id_1> r </s>
  EXPECT_EQ(e.target[0], sentinel(0));
  EXPECT_EQ(e.target[2], sentinel(1));
  EXPECT_EQ(e.input.size(), 11u);
}

TEST(DataObjective, T5SpanStatisticsMatchTheConfiguration) {
  for (double density : {0.15, 0.3}) {
    for (double mean_span : {2.0, 3.0, 5.0}) {
      T5SpanCorruption t5(density, mean_span);
      std::mt19937_64 rng(3);
      std::uniform_int_distribution<int64_t> length(100, 500);
      Example e;
      int64_t noise = 0, spans = 0, residues = 0;
      for (int t = 0; t < 3000; ++t) {
        const int64_t n = length(rng);
        const auto seq = random_sequence(rng, n);
        t5.apply(TokenView(seq), rng(), e);
        for (std::size_t i = 0; i + 1 < e.target.size(); ++i) (is_sentinel(e.target[i]) ? spans : noise) += 1;
        residues += n;
      }
      const double measured_density = static_cast<double>(noise) / static_cast<double>(residues);
      const double measured_span = static_cast<double>(noise) / static_cast<double>(spans);
      EXPECT_NEAR(measured_density, density, 0.01 * density + 0.002) << density << " " << mean_span;
      EXPECT_NEAR(measured_span, mean_span, 0.06 * mean_span) << density << " " << mean_span;
    }
  }
}

TEST(DataObjective, ASampleNeedingMoreSentinelsThanTheVocabularyHasIsAnError) {
  const auto objective = make_objective(config("ankh", 0.2));
  std::mt19937_64 rng(5);
  const auto seq = random_sequence(rng, 600);  // 120 masks
  Example e;
  EXPECT_THROW(objective->apply(TokenView(seq), 1, e), core::InputError);
  EXPECT_NO_THROW(make_objective(config("full_reconstruction", 0.2))->apply(TokenView(seq), 1, e));
}

TEST(DataObjective, TooManySentinelsIsAConfigErrorWithAHint) {
  DataConfig data;
  data.max_length = 512;
  core::IssueList ok;
  validate_objective(config("ankh", 0.2), data, ok);
  validate_objective(config("t5_span", 0.15, 3), data, ok);
  validate_objective(config("full_reconstruction", 0.9), data, ok);
  EXPECT_TRUE(ok.empty());

  core::IssueList issues;
  validate_objective(config("ankh", 0.25), data, issues);
  ASSERT_EQ(issues.issues().size(), 1u);
  EXPECT_EQ(issues.issues()[0].key, "objective.mask_prob");
  EXPECT_NE(issues.issues()[0].message.find("128 sentinels"), std::string::npos) << issues.issues()[0].message;
  EXPECT_NE(issues.issues()[0].hint.find("mask_prob to 0.227"), std::string::npos) << issues.issues()[0].hint;
  EXPECT_NE(issues.issues()[0].hint.find("max_length to 466"), std::string::npos) << issues.issues()[0].hint;

  core::IssueList spans;
  validate_objective(config("t5_span", 0.5, 1), data, spans);
  EXPECT_EQ(spans.issues().size(), 1u);
}
