#include <gtest/gtest.h>

#include "core/error.h"
#include "core/files.h"
#include "tests/support/test_support.h"

using namespace ankh::core;
namespace fs = std::filesystem;

TEST(Files, AtomicWriteReplacesWholeFile) {
  ankh::testing::ScratchDir dir;
  write_file_atomic(dir / "a.txt", "first");
  write_file_atomic(dir / "a.txt", "second");
  EXPECT_EQ(read_file(dir / "a.txt"), "second");
  for (const auto& e : fs::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename(), "a.txt") << "stray temporary file";
}

TEST(Files, UncommittedAtomicFileLeavesNothing) {
  ankh::testing::ScratchDir dir;
  {
    AtomicFile f(dir / "b.txt");
    ankh::testing::write_text(f.temp_path(), "partial");
  }  // destroyed without commit, e.g. by an exception
  EXPECT_FALSE(fs::exists(dir / "b.txt"));
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(Files, UnwritableTargetIsAnIoError) {
  EXPECT_THROW(write_file_atomic("/nonexistent-dir/x.txt", "x"), IoError);
  EXPECT_THROW(read_file("/nonexistent-dir/x.txt"), IoError);
}
