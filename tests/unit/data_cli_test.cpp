// `ankh preprocess` and `ankh batches` as a user runs them: the real binary on generated FASTA.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <map>
#include <sstream>

#include "core/files.h"
#include "tests/support/test_support.h"
#include "tests/unit/data_test_util.h"

using namespace ankh;
using ankh::testing::run_command;
using ankh::testing::ScratchDir;
namespace fs = std::filesystem;

namespace {

std::string ankh_cmd() { return ankh::testing::ankh_binary().string() + " "; }

std::string batches_cmd(const fs::path& dataset) {
  return ankh_cmd() + "batches configs/ankh-tiny.yaml data.dataset=" + dataset.string() +
         " train.global_batch=16 train.micro_batch=2 data.max_length=64 ";
}

// global_index -> the JSON line of that sample, over every line of `output`.
std::map<int64_t, nlohmann::json> by_index(const std::string& output) {
  std::map<int64_t, nlohmann::json> out;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    auto j = nlohmann::json::parse(line);
    EXPECT_TRUE(out.emplace(j.at("global_index").get<int64_t>(), j).second) << line;
  }
  return out;
}

class DataCli : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fs::exists(ankh::testing::ankh_binary())) << "ankh binary not built"; }
};

}  // namespace

TEST_F(DataCli, PreprocessThenBatchesAgreeAcrossWorldSizes) {
  ScratchDir dir;
  ankh::testing::write_bytes(dir / "p.fasta",
                             ankh::testing::fasta_text(ankh::testing::random_proteins(600, 17, 1, 150), 60, "\r\n"));
  ASSERT_EQ(run_command("gzip -k " + (dir / "p.fasta").string()).exit_code, 0);
  const auto pre = run_command(ankh_cmd() + "preprocess --input " + (dir / "p.fasta.gz").string() + " --output " +
                               (dir / "ds").string() + " --shard-sequences 100 --valid-fraction 0.05 2>&1");
  ASSERT_EQ(pre.exit_code, 0) << pre.output;
  EXPECT_NE(pre.output.find("600 records"), std::string::npos) << pre.output;
  EXPECT_TRUE(fs::exists(dir / "ds" / "manifest.yaml"));

  // The same 3 global steps (crossing no epoch) seen by 1, 2 and 4 ranks.
  const auto one = run_command(batches_cmd(dir / "ds") + "--world-size 1 --steps 3 --start-step 5 --json");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto reference = by_index(one.output);
  ASSERT_EQ(reference.size(), 48u);
  for (int world : {2, 4}) {
    std::map<int64_t, nlohmann::json> joined;
    for (int rank = 0; rank < world; ++rank) {
      const auto r = run_command(batches_cmd(dir / "ds") + "--world-size " + std::to_string(world) + " --rank " +
                                 std::to_string(rank) + " --steps 3 --start-step 5 --json");
      ASSERT_EQ(r.exit_code, 0) << r.output;
      for (auto& [index, j] : by_index(r.output)) {
        EXPECT_EQ(j.at("rank").get<int>(), rank);
        j.erase("rank");
        joined.emplace(index, j);
      }
    }
    ASSERT_EQ(joined.size(), reference.size()) << "world " << world;
    for (auto [index, j] : reference) {
      j.erase("rank");
      EXPECT_EQ(joined.at(index), j) << "world " << world << " global_index " << index;
    }
  }
  const auto& first = reference.begin()->second;
  EXPECT_EQ(first.at("step").get<int64_t>(), 5);
  EXPECT_EQ(first.at("tokens").size(), first.at("length").get<std::size_t>());
  EXPECT_EQ(first.at("input_ids").back().get<int>(), 1);  // </s>

  const auto decoded = run_command(batches_cmd(dir / "ds") + "--rank 1 --world-size 2 --decode");
  ASSERT_EQ(decoded.exit_code, 0) << decoded.output;
  EXPECT_NE(decoded.output.find("input    "), std::string::npos) << decoded.output;
  EXPECT_NE(decoded.output.find("target   <extra_id_0>"), std::string::npos) << decoded.output;
  EXPECT_EQ(decoded.output.find("rank 0 "), std::string::npos) << decoded.output;

  const auto valid = run_command(batches_cmd(dir / "ds") + "--split valid --steps 100 --json");
  ASSERT_EQ(valid.exit_code, 0) << valid.output;
  EXPECT_GT(by_index(valid.output).size(), 10u);
}

TEST_F(DataCli, PreprocessErrorsNameFileAndLineAndWriteNoManifest) {
  ScratchDir dir;
  ankh::testing::write_bytes(dir / "before.fasta", "MKV\n>a\nMK\n");
  auto r = run_command(ankh_cmd() + "preprocess --input " + (dir / "before.fasta").string() + " --output " +
                       (dir / "out").string() + " 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("before.fasta:1"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "out" / "manifest.yaml"));

  ankh::testing::write_bytes(dir / "bad.fasta", ">a\nMK\n>b\nM#K\n");
  r = run_command(ankh_cmd() + "preprocess --input " + (dir / "bad.fasta").string() + " --output " +
                  (dir / "out").string() + " 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("bad.fasta:4"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'#'"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "out" / "manifest.yaml"));

  r = run_command(ankh_cmd() + "preprocess --input " + (dir / "bad.fasta").string() + " --output " +
                  (dir / "out").string() + " --on-invalid unk --no-progress 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(core::read_file(dir / "out" / "manifest.yaml").find("unknown_residues: 1"), std::string::npos);

  r = run_command(ankh_cmd() + "preprocess --input " + (dir / "bad.fasta").string() + " --output " +
                  (dir / "out").string() + " --on-invalid skip 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("already holds a dataset"), std::string::npos) << r.output;
}
