// Gradient bucket layout: reverse parameter order, limits, dtype separation, every parameter once.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "trainer/parallel/grad_buckets.h"

using ankh::parallel::assign_buckets;
using ankh::parallel::BucketLayout;

namespace {

std::vector<torch::Tensor> floats(const std::vector<int64_t>& numels) {
  std::vector<torch::Tensor> out;
  for (int64_t n : numels) out.push_back(torch::zeros({n}));
  return out;
}

// Every parameter exactly once, slots packed back to back.
void expect_partition(const std::vector<BucketLayout>& buckets, std::size_t params) {
  std::set<std::size_t> seen;
  for (const auto& b : buckets) {
    int64_t offset = 0;
    for (const auto& s : b.slots) {
      EXPECT_TRUE(seen.insert(s.param).second) << "parameter " << s.param << " in two buckets";
      EXPECT_EQ(s.offset, offset);
      offset += s.numel;
    }
    EXPECT_EQ(b.numel, offset);
  }
  EXPECT_EQ(seen.size(), params);
}

}  // namespace

TEST(GradBuckets, ReverseOrderWithASmallFirstBucket) {
  // 10 parameters of 100 floats (400 bytes each); first bucket 400 bytes, then 1000.
  auto params = floats(std::vector<int64_t>(10, 100));
  auto buckets = assign_buckets(params, 1000, 400);
  expect_partition(buckets, params.size());
  ASSERT_EQ(buckets.size(), 4u);  // {9}, {8,7,6}, {5,4,3}, {2,1,0}
  EXPECT_EQ(buckets[0].slots.size(), 1u);
  EXPECT_EQ(buckets[0].slots[0].param, 9u);
  std::vector<std::size_t> order;
  for (const auto& b : buckets)
    for (const auto& s : b.slots) order.push_back(s.param);
  for (std::size_t k = 0; k < order.size(); ++k) EXPECT_EQ(order[k], 9 - k);
  for (std::size_t b = 1; b < buckets.size(); ++b) EXPECT_EQ(buckets[b].bytes(), 1200);
}

TEST(GradBuckets, ALargeParameterGetsABucketOfItsOwn) {
  auto params = floats({10, 5000, 10});
  auto buckets = assign_buckets(params, 1000, 1000);
  expect_partition(buckets, params.size());
  ASSERT_EQ(buckets.size(), 2u);  // {2, 1} closes on the large one; {0}
  EXPECT_EQ(buckets[0].slots.back().param, 1u);
  EXPECT_EQ(buckets[1].slots.size(), 1u);
  EXPECT_EQ(buckets[1].slots[0].param, 0u);
}

TEST(GradBuckets, DtypesNeverShareABucket) {
  std::vector<torch::Tensor> params = {torch::zeros({10}), torch::zeros({10}, torch::kDouble), torch::zeros({10}),
                                       torch::zeros({10}, torch::kDouble)};
  auto buckets = assign_buckets(params, 1 << 20, 1 << 20);
  expect_partition(buckets, params.size());
  ASSERT_EQ(buckets.size(), 2u);
  for (const auto& b : buckets)
    for (const auto& s : b.slots) EXPECT_EQ(params[s.param].scalar_type(), b.dtype);
  // The double bucket holds the last parameter, so it comes first.
  EXPECT_EQ(buckets[0].dtype, torch::kDouble);
}

TEST(GradBuckets, OneBucketWhenEverythingFits) {
  auto params = floats({3, 1, 4, 1, 5});
  auto buckets = assign_buckets(params, 25 << 20, 1 << 20);
  ASSERT_EQ(buckets.size(), 1u);
  expect_partition(buckets, params.size());
  EXPECT_EQ(buckets[0].numel, 14);
}
