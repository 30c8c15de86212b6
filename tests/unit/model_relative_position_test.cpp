// T5 relative position buckets against values computed by hand from the bucket formula.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "trainer/model/relative_position.h"

namespace ankh::model {
namespace {

int64_t bucket(int64_t relative, bool bidirectional, int64_t buckets, int64_t max_distance) {
  return relative_position_bucket(torch::tensor({relative}, torch::kLong), bidirectional, buckets, max_distance)
      .item<int64_t>();
}

// Bidirectional, 32 buckets, max distance 128: 16 per direction, exact below 8, then
// 8 + floor(2 * log2(n / 8)) up to 15; keys after the query (relative > 0) add 16.
TEST(RelativePositionBucket, BidirectionalHandComputed) {
  EXPECT_EQ(bucket(0, true, 32, 128), 0);
  EXPECT_EQ(bucket(-3, true, 32, 128), 3);
  EXPECT_EQ(bucket(3, true, 32, 128), 19);
  EXPECT_EQ(bucket(-7, true, 32, 128), 7);
  EXPECT_EQ(bucket(7, true, 32, 128), 23);
  EXPECT_EQ(bucket(-12, true, 32, 128), 9);    // 8 + floor(2 log2 1.5 = 1.17)
  EXPECT_EQ(bucket(-20, true, 32, 128), 10);   // 8 + floor(2 log2 2.5 = 2.64)
  EXPECT_EQ(bucket(24, true, 32, 128), 27);    // 16 + 8 + floor(2 log2 3 = 3.17)
  EXPECT_EQ(bucket(-50, true, 32, 128), 13);   // 8 + floor(2 log2 6.25 = 5.29)
  EXPECT_EQ(bucket(100, true, 32, 128), 31);   // 16 + 8 + floor(7.29)
  EXPECT_EQ(bucket(-127, true, 32, 128), 15);  // 8 + floor(7.97)
  // At and beyond max_distance: the last bucket of each direction.
  EXPECT_EQ(bucket(-128, true, 32, 128), 15);
  EXPECT_EQ(bucket(-1000, true, 32, 128), 15);
  EXPECT_EQ(bucket(1000, true, 32, 128), 31);
}

// Ankh: 64 buckets, max distance 128: 32 per direction, exact below 16, then
// 16 + floor(16/3 * log2(n / 16)) up to 31.
TEST(RelativePositionBucket, AnkhConfiguration) {
  EXPECT_EQ(bucket(5, true, 64, 128), 37);
  EXPECT_EQ(bucket(-15, true, 64, 128), 15);
  EXPECT_EQ(bucket(-20, true, 64, 128), 17);   // 16 + floor(1.72)
  EXPECT_EQ(bucket(20, true, 64, 128), 49);
  EXPECT_EQ(bucket(-40, true, 64, 128), 23);   // 16 + floor(7.05)
  EXPECT_EQ(bucket(-100, true, 64, 128), 30);  // 16 + floor(14.10)
  EXPECT_EQ(bucket(500, true, 64, 128), 63);
}

// Causal (decoder): only keys at or before the query matter; later keys share bucket 0. All 32
// buckets serve one direction: exact below 16, then 16 + floor(16/3 * log2(n / 16)) up to 31.
TEST(RelativePositionBucket, CausalHandComputed) {
  EXPECT_EQ(bucket(0, false, 32, 128), 0);
  EXPECT_EQ(bucket(1, false, 32, 128), 0);
  EXPECT_EQ(bucket(500, false, 32, 128), 0);
  EXPECT_EQ(bucket(-1, false, 32, 128), 1);
  EXPECT_EQ(bucket(-15, false, 32, 128), 15);
  EXPECT_EQ(bucket(-20, false, 32, 128), 17);
  EXPECT_EQ(bucket(-40, false, 32, 128), 23);
  EXPECT_EQ(bucket(-100, false, 32, 128), 30);
  EXPECT_EQ(bucket(-127, false, 32, 128), 31);
  EXPECT_EQ(bucket(-200, false, 32, 128), 31);
}

TEST(RelativePositionBucket, SmallMaxDistanceClampsEarly) {
  // 16 buckets, max distance 16, bidirectional: 8 per side, exact below 4, log buckets 4..7.
  EXPECT_EQ(bucket(-3, true, 16, 16), 3);
  EXPECT_EQ(bucket(-6, true, 16, 16), 5);   // 4 + floor(log(1.5)/log(4) * 4 = 1.17)
  EXPECT_EQ(bucket(-15, true, 16, 16), 7);  // 4 + floor(3.81)
  EXPECT_EQ(bucket(-16, true, 16, 16), 7);
  EXPECT_EQ(bucket(40, true, 16, 16), 15);
}

TEST(RelativePositionBucket, WorksElementwiseOnMatrices) {
  const torch::Tensor rel = relative_positions(3, 4, torch::kCPU);
  const torch::Tensor expected = torch::tensor({0, 1, 2, 3, -1, 0, 1, 2, -2, -1, 0, 1}, torch::kLong).view({3, 4});
  EXPECT_TRUE(torch::equal(rel, expected));
  const torch::Tensor buckets = relative_position_bucket(rel, true, 32, 128);
  const torch::Tensor expected_buckets =
      torch::tensor({0, 17, 18, 19, 1, 0, 17, 18, 2, 1, 0, 17}, torch::kLong).view({3, 4});
  EXPECT_TRUE(torch::equal(buckets, expected_buckets));
}

}  // namespace
}  // namespace ankh::model
