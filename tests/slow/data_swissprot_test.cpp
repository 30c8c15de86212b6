// The data pipeline on the real Swiss-Prot corpus (scripts/get-proteins.sh; skipped without it):
// plain and gzip give the same dataset, the full checks pass, and preprocess memory stays flat
// (the whole corpus needs no more memory than a 20,000-protein subset).
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>

#include "data/dataset.h"
#include "data/loader.h"
#include "data/preprocess.h"
#include "tests/support/test_support.h"

using namespace ankh;
using namespace ankh::data;
using ankh::testing::ScratchDir;
namespace fs = std::filesystem;

namespace {

const fs::path kRaw = "data/raw";

// Peak resident set size (KiB) of one `ankh preprocess` run, from GNU time.
int64_t peak_kib(const fs::path& input, const fs::path& output) {
  const auto r = ankh::testing::run_command("/usr/bin/time -f 'peak=%M' " + ankh::testing::ankh_binary().string() + " preprocess --input " +
                                            input.string() + " --output " + output.string() +
                                            " --shard-mb 16 --threads 2 --no-progress 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::smatch m;
  if (!std::regex_search(r.output, m, std::regex("peak=([0-9]+)"))) {
    ADD_FAILURE() << r.output;
    return 0;
  }
  return std::stoll(m[1]);
}

}  // namespace

TEST(DataSwissProt, PlainAndGzipGiveTheSameVerifiedDataset) {
  if (!fs::exists(kRaw / "swissprot.fasta.gz")) GTEST_SKIP() << "run scripts/get-proteins.sh first";
  ScratchDir dir;
  PreprocessOptions o;
  o.progress = false;
  o.threads = 2;
  o.inputs = {kRaw / "swissprot.fasta"};
  o.output = dir / "plain";
  const auto plain = preprocess(o);
  o.inputs = {kRaw / "swissprot.fasta.gz"};
  o.output = dir / "gzip";
  o.threads = 1;
  const auto gz = preprocess(o);
  EXPECT_EQ(plain.manifest.counts.records, 459503);
  ASSERT_EQ(plain.manifest.shards.size(), gz.manifest.shards.size());
  for (std::size_t i = 0; i < plain.manifest.shards.size(); ++i) {
    EXPECT_EQ(plain.manifest.shards[i].tokens_crc32, gz.manifest.shards[i].tokens_crc32);
    EXPECT_EQ(plain.manifest.shards[i].offsets_crc32, gz.manifest.shards[i].offsets_crc32);
  }
  auto ds = Dataset::open(dir / "gzip", Verify::Full);
  EXPECT_EQ(ds->size(Split::Train) + ds->size(Split::Valid), 459503);

  // The whole valid split through the evaluation order, once each.
  LoaderOptions lo;
  lo.split = Split::Valid;
  lo.global_batch = 64;
  lo.micro_batch = 16;
  lo.seed = 1;
  StepBuilder builder(ds, lo);
  int64_t samples = 0;
  for (int64_t s = 0; s < builder.total_steps(); ++s) samples += static_cast<int64_t>(builder.build(builder.at_global_step(s), false).samples.size());
  EXPECT_EQ(samples, ds->size(Split::Valid));
}

TEST(DataSwissProt, PreprocessMemoryDoesNotGrowWithTheInput) {
  if (!fs::exists(kRaw / "swissprot.fasta") || !fs::exists(kRaw / "swissprot-first-20000.fasta"))
    GTEST_SKIP() << "run scripts/get-proteins.sh first";
  if (!fs::exists("/usr/bin/time") || !fs::exists(ankh::testing::ankh_binary())) GTEST_SKIP() << "needs /usr/bin/time and the ankh binary";
  ScratchDir dir;
  const int64_t small = peak_kib(kRaw / "swissprot-first-20000.fasta", dir / "small");
  const int64_t full = peak_kib(kRaw / "swissprot.fasta", dir / "full");
  // 23x the input; with 16 MiB shards and 2 threads at most ~3 shards are in memory.
  EXPECT_LT(full - small, 96 * 1024) << "small " << small << " KiB, full " << full << " KiB";
}
