#include <gtest/gtest.h>

#include "data/vocab.h"

using namespace ankh::data;

TEST(Vocab, MatchesAnkhExactly) {
  const auto v = vocabulary();
  ASSERT_EQ(v.size(), 144u);
  EXPECT_EQ(v[0], "<pad>");
  EXPECT_EQ(v[1], "</s>");
  EXPECT_EQ(v[2], "<unk>");
  EXPECT_EQ(v[3], "A");
  EXPECT_EQ(v[4], "L");
  EXPECT_EQ(v[27], "Z");
  EXPECT_EQ(v[28], "<extra_id_115>");
  EXPECT_EQ(v[143], "<extra_id_0>");
  EXPECT_EQ(sentinel(0), 143);
  EXPECT_EQ(sentinel(115), 28);
}

TEST(Vocab, ResidueTableAcceptsBothCasesOnly) {
  EXPECT_EQ(residue_id('A'), 3);
  EXPECT_EQ(residue_id('a'), 3);
  EXPECT_EQ(residue_id('Z'), 27);
  EXPECT_EQ(residue_id('J'), -1);
  EXPECT_EQ(residue_id('*'), -1);
  EXPECT_EQ(residue_id('\r'), -1);
}

TEST(Vocab, DecodeNamesSpecialTokens) {
  EXPECT_EQ(decode({3, 143, 4, 1}), "A<extra_id_0>L</s>");
}
