// FASTA -> shards -> Dataset: the round trip, the split, the manifest, the shard checks, and
// every bad input failing without leaving a dataset behind.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/error.h"
#include "core/files.h"
#include "core/strings.h"
#include "data/dataset.h"
#include "data/shard_format.h"
#include "tests/support/test_support.h"
#include "tests/unit/data_test_util.h"

using namespace ankh;
using namespace ankh::data;
using ankh::testing::Protein;
using ankh::testing::ScratchDir;
using ankh::testing::error_of;
using ankh::testing::write_bytes;
namespace fs = std::filesystem;

namespace {

std::string letters_of(TokenView v) {
  std::string s;
  for (uint8_t t : v) s += token_name(t);
  return s;
}

// id -> sequence over both splits, checking that no id appears twice.
std::map<std::string, std::string> contents(const Dataset& ds) {
  std::map<std::string, std::string> out;
  for (Split split : {Split::Train, Split::Valid})
    for (int64_t i = 0; i < ds.size(split); ++i) {
      EXPECT_TRUE(out.emplace(ds.id(split, i), letters_of(ds.tokens(split, i))).second);
      EXPECT_EQ(ds.length(split, i), ds.tokens(split, i).size());
    }
  return out;
}


}  // namespace

TEST(DataPreprocess, RoundTripKeepsEverySequenceOnceInTheRightSplit) {
  ScratchDir dir;
  const auto proteins = ankh::testing::random_proteins(3000, 11, 1, 300);
  const auto result = ankh::testing::make_dataset(dir / "ds", proteins, 0.1, /*shard_sequences=*/700);
  auto ds = Dataset::open(dir / "ds", Verify::Full);

  std::map<std::string, std::string> expected;
  int64_t valid = 0;
  for (const auto& p : proteins) {
    expected[p.id] = p.sequence;
    valid += in_valid_split(p.id, 0.1);
  }
  EXPECT_EQ(contents(*ds), expected);
  EXPECT_EQ(ds->size(Split::Valid), valid);
  EXPECT_GT(valid, 200);  // ~10%
  EXPECT_LT(valid, 400);
  for (int64_t i = 0; i < ds->size(Split::Valid); ++i) EXPECT_TRUE(in_valid_split(ds->id(Split::Valid, i), 0.1));
  // Input order is kept within a split.
  std::vector<std::string> train_order;
  for (const auto& p : proteins)
    if (!in_valid_split(p.id, 0.1)) train_order.push_back(p.id);
  for (int64_t i = 0; i < ds->size(Split::Train); ++i) ASSERT_EQ(ds->id(Split::Train, i), train_order[static_cast<std::size_t>(i)]);

  const Manifest& m = ds->manifest();
  EXPECT_EQ(m.counts.records, 3000);
  EXPECT_EQ(m.counts.sequences, 3000);
  EXPECT_EQ(m.totals(Split::Train).shards, (ds->size(Split::Train) + 699) / 700);
  EXPECT_EQ(m.shards.front().file, "train-00000.h5");
  EXPECT_EQ(m.shards.back().file, "valid-00000.h5");
  EXPECT_EQ(result.manifest.to_yaml(), core::read_file(dir / "ds" / "manifest.yaml"));
  // Nothing but the dataset is left in the directory (no staging, no temporaries).
  for (const auto& e : fs::directory_iterator(dir / "ds")) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name == "manifest.yaml" || ankh::core::ends_with(name, ".h5")) << name;
  }
}

TEST(DataPreprocess, ShortAndLongIdsBothRoundTrip) {
  // Shards whose ids all fit 64 bytes store them fixed-length, others variable-length.
  ScratchDir dir;
  auto proteins = ankh::testing::random_proteins(300, 13);
  proteins[250].id = std::string(3000, 'L') + "|GO:1";
  ankh::testing::make_dataset(dir / "ds", proteins, 0.0, /*shard_sequences=*/200);
  auto ds = Dataset::open(dir / "ds");
  for (int64_t i = 0; i < 300; ++i) ASSERT_EQ(ds->id(Split::Train, i), proteins[static_cast<std::size_t>(i)].id);
  EXPECT_EQ(read_shard_id(dir / "ds" / "train-00001.h5", 50), proteins[250].id);
  EXPECT_EQ(read_shard_id(dir / "ds" / "train-00000.h5", 7), proteins[7].id);
}

TEST(DataPreprocess, ShardsDoNotDependOnThreadsOrShardingByBytes) {
  ScratchDir dir;
  const auto proteins = ankh::testing::random_proteins(2000, 12);
  const auto one = ankh::testing::make_dataset(dir / "one", proteins, 0.05, 300, 1);
  const auto three = ankh::testing::make_dataset(dir / "three", proteins, 0.05, 300, 3);
  ASSERT_EQ(one.manifest.shards.size(), three.manifest.shards.size());
  for (std::size_t i = 0; i < one.manifest.shards.size(); ++i) {
    EXPECT_EQ(one.manifest.shards[i].tokens_crc32, three.manifest.shards[i].tokens_crc32);
    EXPECT_EQ(one.manifest.shards[i].offsets_crc32, three.manifest.shards[i].offsets_crc32);
  }
}

TEST(DataPreprocess, SplitDependsOnlyOnTheId) {
  // Adding another file never moves a record across the split.
  ScratchDir dir;
  const auto a = ankh::testing::random_proteins(1000, 21);
  const auto b = ankh::testing::random_proteins(1000, 22);
  write_bytes(dir / "a.fasta", ankh::testing::fasta_text(a));
  write_bytes(dir / "b.fasta", ankh::testing::fasta_text(b));
  PreprocessOptions o;
  o.valid_fraction = 0.2;
  o.progress = false;
  o.inputs = {dir / "a.fasta"};
  o.output = dir / "only-a";
  preprocess(o);
  o.inputs = {dir / "b.fasta", dir / "a.fasta"};
  o.output = dir / "both";
  const auto both = preprocess(o);
  EXPECT_EQ(both.manifest.sources.size(), 2u);
  EXPECT_EQ(both.manifest.sources[0].records, 1000);
  auto only_a = Dataset::open(dir / "only-a");
  auto all = Dataset::open(dir / "both");
  std::set<std::string> valid_all;
  for (int64_t i = 0; i < all->size(Split::Valid); ++i) valid_all.insert(all->id(Split::Valid, i));
  for (int64_t i = 0; i < only_a->size(Split::Valid); ++i) EXPECT_TRUE(valid_all.count(only_a->id(Split::Valid, i)));
}

TEST(DataPreprocess, CountsDuplicatesEmptyRecordsAndPolicies) {
  ScratchDir dir;
  write_bytes(dir / "a.fasta", ">x\nMK\n>y\n>x\nMKV*\n>z\nMJ\n");
  write_bytes(dir / "b.fasta", ">y\nLL\n>x\nAA\n");
  PreprocessOptions o;
  o.inputs = {dir / "a.fasta", dir / "b.fasta"};
  o.output = dir / "ds";
  o.on_invalid = InvalidPolicy::Unk;
  o.valid_fraction = 0;
  o.progress = false;
  o.shard_sequences = 2;
  const auto r = preprocess(o);
  const auto& c = r.manifest.counts;
  EXPECT_EQ(c.records, 6);
  EXPECT_EQ(c.sequences, 5);
  EXPECT_EQ(c.empty_records, 1);
  EXPECT_EQ(c.stripped_stops, 1);
  EXPECT_EQ(c.unknown_residues, 1);
  EXPECT_EQ(c.duplicate_ids, 2);  // x twice more; the empty y does not count, the later y is the first kept
  ASSERT_FALSE(r.duplicate_examples.empty());
  EXPECT_EQ(r.duplicate_examples[0], "x");
  const Manifest m = Manifest::read(dir / "ds" / "manifest.yaml");
  EXPECT_EQ(m.counts.duplicate_ids, 2);
  EXPECT_EQ(m.on_invalid, "unk");
}

TEST(DataPreprocess, RefusesToReplaceADatasetWithoutOverwrite) {
  ScratchDir dir;
  const auto proteins = ankh::testing::random_proteins(100, 5);
  ankh::testing::make_dataset(dir / "ds", proteins);
  const std::string msg = error_of<core::InputError>([&] { ankh::testing::make_dataset(dir / "ds", proteins); });
  EXPECT_NE(msg.find("already holds a dataset"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--overwrite"), std::string::npos) << msg;

  PreprocessOptions o;
  o.inputs = {dir / "ds.fasta"};
  o.output = dir / "ds";
  o.overwrite = true;
  o.progress = false;
  o.shard_sequences = 10;  // more shards than before: the old ones must all go
  preprocess(o);
  auto ds = Dataset::open(dir / "ds");
  EXPECT_EQ(ds->size(Split::Train) + ds->size(Split::Valid), 100);
  int64_t files = 0;
  for (const auto& e : fs::directory_iterator(dir / "ds")) files += e.path().extension() == ".h5";
  EXPECT_EQ(files, static_cast<int64_t>(ds->manifest().shards.size()));
}

TEST(DataPreprocess, BadInputLeavesNoDatasetAndKeepsTheOldOne) {
  ScratchDir dir;
  const auto proteins = ankh::testing::random_proteins(500, 6);
  ankh::testing::make_dataset(dir / "ds", proteins);
  const std::string before = core::read_file(dir / "ds" / "manifest.yaml");
  write_bytes(dir / "bad.fasta", ankh::testing::fasta_text(proteins) + ">bad\nMKV\nM9K\n");
  PreprocessOptions o;
  o.inputs = {dir / "bad.fasta"};
  o.output = dir / "ds";
  o.overwrite = true;
  o.progress = false;
  o.shard_sequences = 50;
  const std::string msg = error_of<core::InputError>([&] { preprocess(o); });
  EXPECT_NE(msg.find("bad.fasta:"), std::string::npos) << msg;
  EXPECT_EQ(core::read_file(dir / "ds" / "manifest.yaml"), before);  // the old dataset is intact
  EXPECT_NO_THROW(Dataset::open(dir / "ds", Verify::Full));

  o.output = dir / "fresh";
  EXPECT_THROW(preprocess(o), core::InputError);
  EXPECT_FALSE(fs::exists(dir / "fresh" / "manifest.yaml"));
  if (fs::exists(dir / "fresh")) {
    EXPECT_TRUE(fs::is_empty(dir / "fresh"));
  }

  o.inputs = {dir / "bad.fasta", dir / "does-not-exist.fasta"};
  const std::string missing = error_of<core::IoError>([&] { preprocess(o); });
  EXPECT_NE(missing.find("does-not-exist.fasta"), std::string::npos) << missing;

  write_bytes(dir / "empty.fasta", ">a\n>b\n");
  o.inputs = {dir / "empty.fasta"};
  EXPECT_THROW(preprocess(o), core::InputError);
  EXPECT_FALSE(fs::exists(dir / "fresh" / "manifest.yaml"));
}

TEST(DataDataset, OpenRejectsMissingCorruptAndForeignShards) {
  ScratchDir dir;
  const auto proteins = ankh::testing::random_proteins(400, 8);
  auto fresh = [&](const std::string& name) {
    ankh::testing::make_dataset(dir / name, proteins, 0.1, 100);
    return dir / name;
  };
  EXPECT_NO_THROW(Dataset::open(fresh("good"), Verify::Full));

  // No manifest: not a dataset.
  const fs::path none = fresh("none");
  fs::remove(none / "manifest.yaml");
  EXPECT_NE(error_of<core::InputError>([&] { Dataset::open(none); }).find("not a dataset"), std::string::npos);

  // A missing shard.
  const fs::path missing = fresh("missing");
  fs::remove(missing / "train-00001.h5");
  EXPECT_NE(error_of<core::InputError>([&] { Dataset::open(missing); }).find("missing shard train-00001.h5"),
            std::string::npos);

  // A shard that is not HDF5 at all.
  const fs::path garbage = fresh("garbage");
  write_bytes(garbage / "train-00000.h5", "not hdf5");
  EXPECT_NE(error_of<core::InputError>([&] { Dataset::open(garbage); }).find("train-00000.h5"), std::string::npos);

  // A truncated shard.
  const fs::path cut = fresh("cut");
  fs::resize_file(cut / "train-00002.h5", fs::file_size(cut / "train-00002.h5") / 2);
  EXPECT_NE(error_of<core::InputError>([&] { Dataset::open(cut); }).find("train-00002.h5"), std::string::npos);

  // Manifest counts that disagree with the shard.
  const fs::path counts = fresh("counts");
  std::string text = core::read_file(counts / "manifest.yaml");
  const std::size_t at = text.find("sequences: ", text.find("file: train-00000.h5"));
  text.replace(at, std::string("sequences: 100").size(), "sequences: 99");
  write_bytes(counts / "manifest.yaml", text);
  EXPECT_NE(error_of<core::InputError>([&] { Dataset::open(counts); }).find("train-00000.h5"), std::string::npos);

  // A foreign format version.
  const fs::path version = fresh("version");
  text = core::read_file(version / "manifest.yaml");
  text.replace(text.find("format_version: 1"), 17, "format_version: 9");
  write_bytes(version / "manifest.yaml", text);
  EXPECT_NE(error_of<core::InputError>([&] { Dataset::open(version); }).find("format version 9"), std::string::npos);

  // A flipped residue: found by the full check only (its checksum).
  const fs::path flipped = fresh("flipped");
  {
    auto ds = Dataset::open(flipped);
    const uint8_t* p = ds->tokens(Split::Train, 0).data();
    // Find the byte's offset in the file through a second mapping-free read.
    const std::string bytes = core::read_file(flipped / "train-00000.h5");
    const std::string first(reinterpret_cast<const char*>(p), static_cast<std::size_t>(ds->residues(Split::Train) > 200 ? 200 : 50));
    const std::size_t off = bytes.find(first);
    ASSERT_NE(off, std::string::npos);
    std::string changed = bytes;
    changed[off] = static_cast<char>(changed[off] == 3 ? 4 : 3);
    ds.reset();
    write_bytes(flipped / "train-00000.h5", changed);
  }
  EXPECT_NO_THROW(Dataset::open(flipped));
  EXPECT_NE(error_of<core::InputError>([&] { Dataset::open(flipped, Verify::Full); }).find("checksum"), std::string::npos);
}

TEST(DataDataset, ShardsAreReadableWithH5py) {
  ScratchDir dir;
  const auto proteins = ankh::testing::random_proteins(50, 9);
  ankh::testing::make_dataset(dir / "ds", proteins, 0.0);
  const auto probe = ankh::testing::run_command("/usr/bin/python3 -c 'import h5py' 2>&1");
  if (probe.exit_code != 0) GTEST_SKIP() << "h5py not available";
  const std::string script =
      "import h5py\n"
      "import sys\n"
      "f = h5py.File(sys.argv[1] + '/train-00000.h5', 'r')\n"
      "t, o, ids = f['tokens'][:], f['offsets'][:], f['ids'][:]\n"
      "letters = 'ALGVSREDTIPKFQNYMHWCXBOUZ'\n"
      "print(ids[0].decode(), ''.join(letters[x - 3] for x in t[o[0]:o[1]]), len(ids), f.attrs['vocabulary'])\n";
  ankh::testing::write_text(dir / "read.py", script);
  const auto r = ankh::testing::run_command("/usr/bin/python3 " + (dir / "read.py").string() + " " + (dir / "ds").string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(proteins[0].id + " " + proteins[0].sequence + " 50"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ankh-144"), std::string::npos) << r.output;
}
