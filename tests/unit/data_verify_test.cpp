// Integrity of datasets as read: the residue composition in the manifest, token values checked
// where sequences are read (a corrupt byte is an InputError naming the shard, the sequence and
// its record, never an index error inside LibTorch), shard sizes against the manifest, and
// verify_dataset reporting every problem (what `ankh verify` and `data.verify: full` run).
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/files.h"
#include "data/composition.h"
#include "data/dataset.h"
#include "data/dataset_verify.h"
#include "data/vocab.h"
#include "tests/support/test_support.h"
#include "tests/unit/data_test_util.h"

using namespace ankh;
using namespace ankh::data;
using ankh::testing::ScratchDir;
using ankh::testing::error_of;
using ankh::testing::write_bytes;
namespace fs = std::filesystem;

namespace {

// 300 proteins in three train shards and a valid one.
fs::path make(const ScratchDir& scratch, const std::string& name) {
  const auto proteins = ankh::testing::random_proteins(300, 5, 20, 300);
  ankh::testing::make_dataset(scratch / name, proteins, 0.1, 100);
  return scratch / name;
}

// Overwrites residue `residue` of train sequence `sequence` with `value`, in place: the file
// keeps its size and HDF5 still opens it, as with bit rot or a bad copy.
void poke(const fs::path& dir, int64_t sequence, int64_t residue, uint8_t value) {
  std::string file;
  std::string anchor;
  {
    auto ds = Dataset::open(dir);
    const TokenView t = ds->tokens(Split::Train, sequence);
    ASSERT_GT(t.size(), residue);
    const int64_t n = std::min<int64_t>(t.size(), 64);
    anchor.assign(reinterpret_cast<const char*>(t.data()), static_cast<std::size_t>(n));
    file = "train-0000" + std::to_string(sequence / 100) + ".h5";  // 100 sequences per shard
  }
  std::string bytes = core::read_file(dir / file);
  const std::size_t at = bytes.find(anchor);
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(bytes.find(anchor, at + 1), std::string::npos) << "anchor not unique";
  bytes[at + static_cast<std::size_t>(residue)] = static_cast<char>(value);
  write_bytes(dir / file, bytes);
}

}  // namespace

TEST(DataComposition, CountsAndEntropy) {
  const std::vector<uint8_t> tokens = {3, 3, 4, 5, kUnk, 3};
  Composition c;
  const TokenCount n = count_tokens(tokens.data(), static_cast<int64_t>(tokens.size()), c);
  EXPECT_EQ(n.invalid, 0);
  EXPECT_EQ(c.counts[0], 1);  // <unk>
  EXPECT_EQ(c.counts[1], 3);  // A
  EXPECT_EQ(c.total(), 6);
  // Residues only: A 3/5, L 1/5, G 1/5.
  EXPECT_NEAR(c.unigram_entropy(), -(0.6 * std::log(0.6) + 2 * 0.2 * std::log(0.2)), 1e-12);
  const std::vector<uint8_t> bad = {3, 200, 4, 0, 3};
  Composition d;
  const TokenCount m = count_tokens(bad.data(), 5, d);
  EXPECT_EQ(m.invalid, 2);
  EXPECT_EQ(m.first_invalid, 1);
  EXPECT_EQ(d.total(), 3);
  EXPECT_EQ(composition_key(0), "<unk>");
  EXPECT_EQ(composition_index("W"), 1 + 18);
  EXPECT_EQ(composition_index("<pad>"), -1);
}

TEST(DataComposition, ManifestRecordsItPerShard) {
  ScratchDir scratch;
  const fs::path dir = make(scratch, "ds");
  auto ds = Dataset::open(dir);
  const auto recorded = ds->manifest().composition(Split::Train);
  ASSERT_TRUE(recorded.has_value());
  Composition counted;
  for (int64_t i = 0; i < ds->size(Split::Train); ++i) {
    const TokenView t = ds->tokens(Split::Train, i);
    count_tokens(t.data(), t.size(), counted);
  }
  EXPECT_EQ(*recorded, counted);
  EXPECT_EQ(recorded->total(), ds->residues(Split::Train));
  EXPECT_TRUE(verify_dataset(dir, {}).ok());

  // A manifest written before the composition existed still opens, with none.
  std::string text = core::read_file(dir / "manifest.yaml");
  for (std::size_t at; (at = text.find(", composition: {")) != std::string::npos;)
    text.erase(at, text.find('}', at) + 1 - at);
  write_bytes(dir / "manifest.yaml", text);
  auto old = Dataset::open(dir);
  EXPECT_FALSE(old->manifest().composition(Split::Train).has_value());
  const auto report = verify_dataset(dir, {});
  EXPECT_TRUE(report.ok());
  EXPECT_FALSE(report.notes.empty());
}

TEST(DataComposition, HostileManifestCountsAreInputErrors) {
  ScratchDir scratch;
  const fs::path dir = make(scratch, "ds");
  const std::string text = core::read_file(dir / "manifest.yaml");
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    const std::size_t at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    t.replace(at, from.size(), to);
    return t;
  };
  const std::string a = text.substr(text.find("composition: {A: "), 40);
  const std::string count = a.substr(17, a.find(',') - 17);
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"composition: {A: " + count, "composition: {A: 1" + count},        // more than the shard holds
           {"composition: {A: " + count, "composition: {A: -" + count},        // negative
           {"composition: {A: ", "composition: {<pad>: 1, A: "},                // not a stored token
           {"composition: {A: " + count, "composition: {A: 9223372036854775807"}}) {
    const std::string e = error_of<core::InputError>([&] { Manifest::parse(with(from, to), "m.yaml"); });
    EXPECT_NE(e.find("composition"), std::string::npos) << e;
  }
}

TEST(DataIntegrity, TokenOutsideTheVocabularyIsAnInputErrorWhereItIsRead) {
  ScratchDir scratch;
  const fs::path dir = make(scratch, "ds");
  poke(dir, 130, 7, 200);  // shard train-00001.h5, its sequence 30
  auto ds = Dataset::open(dir);  // quick: the token bytes are not read at open
  const std::string record = ds->id(Split::Train, 130);
  const std::string e = error_of<core::InputError>([&] { ds->tokens(Split::Train, 130); });
  EXPECT_NE(e.find("train-00001.h5"), std::string::npos) << e;
  EXPECT_NE(e.find("= 200 is not a residue id"), std::string::npos) << e;
  EXPECT_NE(e.find("sequence 30 of the shard"), std::string::npos) << e;
  EXPECT_NE(e.find("train sequence 130"), std::string::npos) << e;
  EXPECT_NE(e.find(record), std::string::npos) << e;
  EXPECT_NE(e.find("ankh verify"), std::string::npos) << e;
  EXPECT_NO_THROW(ds->tokens(Split::Train, 129));

  const auto report = verify_dataset(dir, {});
  ASSERT_EQ(report.problems.size(), 2u);  // the checksum and the byte
  EXPECT_NE(report.problems[0].what.find("checksum"), std::string::npos);
  EXPECT_NE(report.problems[1].what.find("1 byte of /tokens is not a residue id"), std::string::npos);
  EXPECT_NE(report.problems[1].what.find("residue 7 of sequence 30 (record '" + record + "')"), std::string::npos)
      << report.problems[1].what;
  EXPECT_THROW(Dataset::open(dir, Verify::Full), core::InputError);
}

TEST(DataIntegrity, VerifyReportsEveryProblemNotOnlyTheFirst) {
  ScratchDir scratch;
  const fs::path dir = make(scratch, "ds");
  poke(dir, 10, 0, 99);      // a sentinel id: outside what a shard stores
  // An in-vocabulary change: only the checksum and the composition can see it.
  {
    auto ds = Dataset::open(dir);
    const uint8_t was = ds->tokens(Split::Train, 250)[3];
    ds.reset();
    poke(dir, 250, 3, static_cast<uint8_t>(was == 3 ? 4 : 3));
  }
  EXPECT_NO_THROW(Dataset::open(dir)->tokens(Split::Train, 250));  // valid ids: quick cannot tell
  const auto report = verify_dataset(dir, {2, false});
  ASSERT_EQ(report.problems.size(), 4u);
  EXPECT_NE(report.problems[0].where.find("train-00000.h5"), std::string::npos);
  EXPECT_NE(report.problems[2].where.find("train-00002.h5"), std::string::npos);
  EXPECT_NE(report.problems[3].what.find("composition differs"), std::string::npos);
  EXPECT_EQ(report.files, 5);  // the manifest and four shards
  const std::string e = error_of<core::InputError>([&] { Dataset::open(dir, Verify::Full); });
  EXPECT_NE(e.find("4 problems in the dataset"), std::string::npos) << e;
}

TEST(DataIntegrity, ShardSizeIsComparedWithTheManifest) {
  ScratchDir scratch;
  const fs::path dir = make(scratch, "ds");
  std::string bytes = core::read_file(dir / "valid-00000.h5");
  write_bytes(dir / "valid-00000.h5", bytes + std::string(10, '\0'));  // HDF5 ignores trailing bytes
  const std::string e = error_of<core::InputError>([&] { Dataset::open(dir); });
  EXPECT_NE(e.find("valid-00000.h5"), std::string::npos) << e;
  EXPECT_NE(e.find(std::to_string(bytes.size() + 10) + " bytes, the manifest records " + std::to_string(bytes.size())),
            std::string::npos)
      << e;
  const auto report = verify_dataset(dir, {});
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].where.find("valid-00000.h5"), std::string::npos);
}
