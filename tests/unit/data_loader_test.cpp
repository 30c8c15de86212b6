// The global order and the loader: the permutation is a bijection, every sequence appears once
// per epoch, 1, 2 and 4 ranks see the same global batches, a saved state resumes the identical
// stream, and the batches are what the model expects.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "core/error.h"
#include "data/feistel.h"
#include "data/loader.h"
#include "tests/support/test_support.h"
#include "tests/unit/data_test_util.h"

using namespace ankh;
using namespace ankh::data;
using ankh::testing::ScratchDir;

namespace {

// One small dataset shared by the tests of this file (preprocessing it once keeps them fast).
class DataLoaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir("ankh-loader-test");
    // 1,037 sequences, some longer than max_length so that crops happen; several shards.
    ankh::testing::make_dataset(dir_->path() / "ds", ankh::testing::random_proteins(1037, 31, 1, 300), 0.05, 250);
    dataset_ = Dataset::open(dir_->path() / "ds");
  }
  static void TearDownTestSuite() {
    dataset_.reset();
    delete dir_;
  }

  static LoaderOptions options(int world = 1, int rank = 0, int64_t g = 32, int64_t b = 4) {
    LoaderOptions o;
    o.data.max_length = 128;
    o.data.bucket_window = 4;
    o.data.prefetch = 2;
    o.seed = 77;
    o.global_batch = g;
    o.micro_batch = b;
    o.world_size = world;
    o.rank = rank;
    return o;
  }

  static ScratchDir* dir_;
  static std::shared_ptr<const Dataset> dataset_;
};
ScratchDir* DataLoaderTest::dir_ = nullptr;
std::shared_ptr<const Dataset> DataLoaderTest::dataset_;

// What identifies a sample's treatment: sequence, crop, and the objective's output.
struct Seen {
  int64_t position, index, crop_start, length;
  std::vector<uint8_t> input, target;
  bool operator==(const Seen& o) const {
    return position == o.position && index == o.index && crop_start == o.crop_start && length == o.length &&
           input == o.input && target == o.target;
  }
};

std::vector<Seen> seen(const PlannedStep& ps) {
  std::vector<Seen> out;
  for (std::size_t i = 0; i < ps.samples.size(); ++i) {
    const auto& s = ps.samples[i];
    out.push_back({s.position, s.index, s.crop_start, s.length, ps.examples[i].input, ps.examples[i].target});
  }
  return out;
}

}  // namespace

TEST(DataFeistel, IsABijectionForManySizesAndKeys) {
  for (uint64_t n : {1ull, 2ull, 3ull, 5ull, 16ull, 17ull, 100ull, 1000ull, 4097ull, 65539ull}) {
    for (uint64_t key : {0ull, 1ull, 0xDEADBEEFull}) {
      FeistelPermutation perm(n, key);
      std::vector<bool> hit(n, false);
      for (uint64_t i = 0; i < n; ++i) {
        const uint64_t y = perm(i);
        ASSERT_LT(y, n);
        ASSERT_FALSE(hit[y]) << "n=" << n << " key=" << key << " repeats " << y;
        hit[y] = true;
      }
    }
  }
}

TEST(DataFeistel, DifferentKeysGiveDifferentOrders) {
  FeistelPermutation a(1000, 1), b(1000, 2);
  int same = 0, fixed = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    same += a(i) == b(i);
    fixed += a(i) == i;
  }
  EXPECT_LT(same, 20);
  EXPECT_LT(fixed, 20);
}

TEST_F(DataLoaderTest, EveryTrainingSequenceOncePerEpochAndEpochsDiffer) {
  StepBuilder builder(dataset_, options());
  const int64_t n = dataset_->size(Split::Train);
  const int64_t steps = builder.steps_per_epoch();
  EXPECT_EQ(steps, n / 32);
  std::vector<int64_t> first_epoch;
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    std::set<int64_t> indices;
    std::vector<int64_t> order;
    LoaderState at{epoch, 0};
    for (int64_t s = 0; s < steps; ++s) {
      const PlannedStep ps = builder.build(at, false);
      ASSERT_EQ(ps.global_size, 32);
      ASSERT_EQ(ps.global_step, epoch * steps + s);
      for (std::size_t i = 0; i < ps.samples.size(); ++i) {
        const SampleRef& r = ps.samples[i];
        ASSERT_TRUE(indices.insert(r.index).second) << "sequence " << r.index << " twice in epoch " << epoch;
        ASSERT_LE(r.length, 127);
        ASSERT_EQ(r.length, std::min<int64_t>(127, dataset_->length(Split::Train, r.index)));
        ASSERT_LE(r.crop_start + r.length, dataset_->length(Split::Train, r.index));
        if (i > 0) {
          ASSERT_LE(ps.samples[i - 1].length, r.length);  // sorted by length within a global batch
        }
        order.push_back(r.index);
      }
      at = builder.after(at);
    }
    EXPECT_EQ(at, (LoaderState{epoch + 1, 0}));
    EXPECT_EQ(static_cast<int64_t>(indices.size()), steps * 32);  // the remainder (< G) is left out
    if (epoch == 0) first_epoch = order;
    else EXPECT_NE(order, first_epoch);
  }
}

TEST_F(DataLoaderTest, WorldSizesOneTwoAndFourSeeTheSameGlobalBatches) {
  StepBuilder one(dataset_, options(1, 0));
  for (int world : {2, 4}) {
    std::vector<std::unique_ptr<StepBuilder>> ranks;
    for (int r = 0; r < world; ++r) ranks.push_back(std::make_unique<StepBuilder>(dataset_, options(world, r)));
    for (int64_t gs : {0, 1, 5, 31, 32, 33, 70}) {  // across windows and an epoch boundary
      const PlannedStep whole = one.build(one.at_global_step(gs));
      std::vector<Seen> joined;
      int64_t tokens = 0;
      for (auto& rank : ranks) {
        const PlannedStep part = rank->build(rank->at_global_step(gs));
        ASSERT_EQ(part.global_target_tokens, whole.global_target_tokens);
        ASSERT_EQ(static_cast<int64_t>(part.batches.size()), 32 / (4 * world));
        for (const Batch& b : part.batches) tokens += b.target_tokens;
        const auto s = seen(part);
        joined.insert(joined.end(), s.begin(), s.end());
      }
      ASSERT_TRUE(joined == seen(whole)) << "world " << world << " step " << gs;
      EXPECT_EQ(tokens, whole.global_target_tokens);
    }
  }
}

TEST_F(DataLoaderTest, BatchesAreShiftedPaddedAndMasked) {
  StepBuilder builder(dataset_, options(1, 0, 32, 8));
  const PlannedStep ps = builder.build(builder.at_global_step(3));
  ASSERT_EQ(ps.batches.size(), 4u);
  int64_t tokens = 0;
  for (std::size_t m = 0; m < ps.batches.size(); ++m) {
    const Batch& b = ps.batches[m];
    EXPECT_EQ(b.micro_index, static_cast<int64_t>(m));
    EXPECT_EQ(b.micro_count, 4);
    EXPECT_EQ(b.step, 3);
    EXPECT_EQ(b.size(), 8);
    EXPECT_EQ(b.global_target_tokens, ps.global_target_tokens);
    ASSERT_EQ(b.global_positions.size(), 8u);
    EXPECT_EQ(b.global_positions[0], 3 * 32 + static_cast<int64_t>(m) * 8);
    tokens += b.target_tokens;
    for (int64_t i = 0; i < b.size(); ++i) {
      const Example& e = ps.examples[m * 8 + static_cast<std::size_t>(i)];
      const auto in = b.input_ids[i], mask = b.attention_mask[i], dec = b.decoder_input_ids[i],
                 dmask = b.decoder_attention_mask[i], labels = b.labels[i];
      for (int64_t t = 0; t < in.size(0); ++t) {
        const bool real = t < static_cast<int64_t>(e.input.size());
        EXPECT_EQ(in[t].item<int64_t>(), real ? e.input[static_cast<std::size_t>(t)] : kPad);
        EXPECT_EQ(mask[t].item<int64_t>(), real ? 1 : 0);
      }
      EXPECT_EQ(dec[0].item<int64_t>(), kDecoderStart);
      for (int64_t t = 0; t < labels.size(0); ++t) {
        const bool real = t < static_cast<int64_t>(e.target.size());
        EXPECT_EQ(labels[t].item<int64_t>(), real ? e.target[static_cast<std::size_t>(t)] : kIgnoreLabel);
        EXPECT_EQ(dmask[t].item<int64_t>(), real ? 1 : 0);
        if (t > 0 && real) {
          EXPECT_EQ(dec[t].item<int64_t>(), e.target[static_cast<std::size_t>(t - 1)]);
        }
      }
    }
  }
  EXPECT_EQ(tokens, ps.global_target_tokens);
  EXPECT_EQ(ps.batches[0].input_ids.dtype(), torch::kInt64);
}

TEST_F(DataLoaderTest, BucketingCutsPadding) {
  auto padding = [&](int64_t window) {
    LoaderOptions o = options(1, 0, 32, 4);
    o.data.bucket_window = window;
    StepBuilder builder(dataset_, o);
    int64_t pad = 0;
    for (int64_t s = 0; s < builder.steps_per_epoch(); ++s)
      for (const Batch& b : builder.build(builder.at_global_step(s)).batches)
        pad += (b.attention_mask == 0).sum().item<int64_t>();
    return pad;
  };
  const int64_t sorted_batches = padding(1), windows = padding(16);
  EXPECT_LT(windows, sorted_batches);
}

TEST_F(DataLoaderTest, RestoringASavedStateContinuesTheIdenticalStream) {
  Loader reference(dataset_, options());
  const int64_t per_epoch = reference.steps_per_epoch();
  ASSERT_GT(per_epoch, 13);
  const int total = static_cast<int>(per_epoch) + 15;  // across an epoch boundary
  std::vector<std::vector<Batch>> stream;
  LoaderState saved;
  for (int i = 0; i < total; ++i) {
    stream.push_back(reference.next_step());
    if (i == 12) saved = reference.state();
  }
  EXPECT_EQ(reference.state(), (LoaderState{1, 15 * 32}));

  // Through JSON, as a checkpoint stores it.
  const nlohmann::json j = saved;
  EXPECT_EQ(j.dump(), "{\"epoch\":0,\"next_sample\":416,\"sequences\":" + std::to_string(dataset_->size(Split::Train)) + "}");
  const LoaderState restored = j.get<LoaderState>();
  Loader resumed(dataset_, options(), restored);
  for (int i = 13; i < total; ++i) {
    const auto batches = resumed.next_step();
    ASSERT_EQ(batches.size(), stream[static_cast<std::size_t>(i)].size());
    for (std::size_t m = 0; m < batches.size(); ++m) {
      ASSERT_TRUE(torch::equal(batches[m].input_ids, stream[static_cast<std::size_t>(i)][m].input_ids)) << "step " << i;
      ASSERT_TRUE(torch::equal(batches[m].labels, stream[static_cast<std::size_t>(i)][m].labels)) << "step " << i;
      ASSERT_EQ(batches[m].global_positions, stream[static_cast<std::size_t>(i)][m].global_positions);
    }
  }
}

TEST_F(DataLoaderTest, BackgroundThreadMatchesTheSynchronousBuilder) {
  LoaderOptions sync = options(2, 1);
  sync.background = false;
  Loader a(dataset_, options(2, 1)), b(dataset_, sync);
  for (int i = 0; i < 10; ++i) {
    const auto x = a.next_step(), y = b.next_step();
    ASSERT_EQ(x.size(), y.size());
    for (std::size_t m = 0; m < x.size(); ++m) ASSERT_TRUE(torch::equal(x[m].decoder_input_ids, y[m].decoder_input_ids));
  }
  EXPECT_EQ(a.state(), b.state());
}

TEST_F(DataLoaderTest, ValidationIsAFixedFiniteOrderCoveringTheSplit) {
  const int64_t n = dataset_->size(Split::Valid);
  int64_t g = 8;
  while (n % g == 0) g += 4;  // a short last batch
  ASSERT_GT(n, g);
  LoaderOptions o = options(2, 0, g, 2);
  o.split = Split::Valid;
  std::set<int64_t> indices;
  std::vector<int64_t> first;
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<int64_t> order;
    for (int rank = 0; rank < 2; ++rank) {
      o.rank = rank;
      StepBuilder builder(dataset_, o);
      ASSERT_EQ(builder.total_steps(), (n + g - 1) / g);
      for (int64_t s = 0; s < builder.total_steps(); ++s)
        for (const SampleRef& r : builder.build(builder.at_global_step(s), false).samples) {
          order.push_back(r.index);
          if (pass == 0) {
            EXPECT_TRUE(indices.insert(r.index).second);
          }
        }
    }
    if (pass == 0) first = order;
    else EXPECT_EQ(order, first);
  }
  EXPECT_EQ(static_cast<int64_t>(indices.size()), n);

  o.rank = 0;
  o.max_steps = 2;
  Loader loader(dataset_, o);
  EXPECT_EQ(loader.total_steps(), 2);
  loader.next_step();
  loader.next_step();
  EXPECT_THROW(loader.next_step(), core::Error);
}

TEST_F(DataLoaderTest, InconsistentOptionsAreClearErrors) {
  auto make = [](const LoaderOptions& o) { StepBuilder builder(dataset_, o); };
  EXPECT_THROW(make(options(3, 0, 32, 4)), core::ConfigError);    // 32 is not a multiple of 3 x 4
  EXPECT_THROW(make(options(1, 0, 4096, 4)), core::InputError);   // more than the split
  EXPECT_THROW(make(options(2, 2)), core::UsageError);            // no such rank
  LoaderOptions o = options();
  o.objective.single.mask_prob = {0.9};
  o.data.max_length = 512;
  EXPECT_THROW(make(o), core::ConfigError);  // needs too many sentinels
}
