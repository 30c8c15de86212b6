#include <gtest/gtest.h>

#include "core/strings.h"

using namespace ankh::core;

TEST(Strings, EditDistanceCountsTranspositionAsOne) {
  EXPECT_EQ(edit_distance("d_modle", "d_model"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(Strings, NearestRejectsFarCandidates) {
  const std::vector<std::string> keys = {"model.d_model", "model.d_ff", "train.max_steps"};
  EXPECT_EQ(nearest("model.d_modle", keys).value_or(""), "model.d_model");
  EXPECT_FALSE(nearest("completely.different", keys).has_value());
}

TEST(Strings, StrictNumberParsing) {
  EXPECT_EQ(parse_int("42").value_or(-1), 42);
  EXPECT_EQ(parse_int("-7").value_or(0), -7);
  EXPECT_FALSE(parse_int("4.2"));
  EXPECT_FALSE(parse_int("12abc"));
  EXPECT_FALSE(parse_int(""));
  EXPECT_DOUBLE_EQ(parse_double("1e-3").value_or(0), 1e-3);
  EXPECT_FALSE(parse_double("1e-3x"));
  EXPECT_TRUE(parse_bool("true").value_or(false));
  EXPECT_FALSE(parse_bool("maybe"));
}

TEST(Strings, DoublesRoundTripExactly) {
  for (double v : {0.1, 1e-3, 3.0, 1.0 / 3.0, 6.02e23}) {
    EXPECT_EQ(parse_double(format_double(v)).value_or(-1), v);
  }
  EXPECT_EQ(format_double(3.0), "3.0");
}

TEST(Strings, HumanFormats) {
  EXPECT_EQ(format_count(1234567), "1,234,567");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_duration(3725), "1:02:05");
}
