// The FASTA reader: formats it must accept, counts it keeps, and errors naming file and line.
#include <gtest/gtest.h>
#include <zlib.h>

#include "core/error.h"
#include "core/files.h"
#include "data/fasta_reader.h"
#include "tests/support/test_support.h"
#include "tests/unit/data_test_util.h"

using namespace ankh;
using namespace ankh::data;
using ankh::testing::ScratchDir;
using ankh::testing::error_of;
using ankh::testing::write_bytes;

namespace {

struct Parsed {
  std::vector<std::pair<std::string, std::string>> records;  // id, letters
  PreprocessCounts counts;
};

Parsed parse_file(const std::filesystem::path& path, InvalidPolicy policy = InvalidPolicy::Error,
                  std::size_t buffer = 1 << 20) {
  FastaReader reader(InputStream::open(path), policy, buffer);
  Parsed p;
  FastaRecord r;
  while (reader.next(r)) {
    std::string letters;
    for (std::size_t i = 0; i < r.length; ++i) letters += token_name(r.tokens[i]);
    p.records.emplace_back(std::string(r.id), letters);
  }
  p.counts = reader.counts();
  return p;
}

Parsed parse_text(const std::string& text, InvalidPolicy policy = InvalidPolicy::Error, std::size_t buffer = 1 << 20) {
  ScratchDir dir;
  write_bytes(dir / "in.fasta", text);
  return parse_file(dir / "in.fasta", policy, buffer);
}

void write_gzip(const std::filesystem::path& path, const std::string& text) {
  gzFile gz = gzopen(path.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  gzclose(gz);
}

// The error's where() and describe(), for matching.

}  // namespace

TEST(DataFasta, ReadsWrappedRecordsAndIds) {
  const Parsed p = parse_text(">sp|P1|A desc\nMKV\nLLA\n>P2\nGG\n");
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_EQ(p.records[0], std::make_pair(std::string("sp|P1|A"), std::string("MKVLLA")));
  EXPECT_EQ(p.records[1], std::make_pair(std::string("P2"), std::string("GG")));
  EXPECT_EQ(p.counts.records, 2);
  EXPECT_EQ(p.counts.residues, 8);
}

TEST(DataFasta, AcceptsLowerCaseCrlfBlankLinesSpacesAndNoFinalNewline) {
  const Parsed p = parse_text("\r\n>a x\r\nmk v\r\n\r\nL\tA\r\n>b\r\nqq");
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_EQ(p.records[0].second, "MKVLA");
  EXPECT_EQ(p.records[1].second, "QQ");
}

TEST(DataFasta, StripsTrailingStopAndCountsIt) {
  const Parsed p = parse_text(">a\nMKV*\n>b\nMK\nV*\n\n>c\nMM\n");
  ASSERT_EQ(p.records.size(), 3u);
  EXPECT_EQ(p.records[0].second, "MKV");
  EXPECT_EQ(p.records[1].second, "MKV");
  EXPECT_EQ(p.counts.stripped_stops, 2);
  EXPECT_EQ(p.counts.invalid_characters, 0);
}

TEST(DataFasta, StopInsideASequenceIsInvalid) {
  const std::string msg = error_of<core::InputError>([] { parse_text(">a\nMK*V\n"); });
  EXPECT_NE(msg.find("in.fasta:2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'*'"), std::string::npos) << msg;
  const Parsed p = parse_text(">a\nMK*V\n", InvalidPolicy::Unk);
  EXPECT_EQ(p.records[0].second, "MK<unk>V");
}

TEST(DataFasta, SkipsAndCountsEmptyRecords) {
  const Parsed p = parse_text(">empty1\n>a\nMK\n>empty2\n\n\n>b\nL\n>empty3\n");
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_EQ(p.counts.records, 5);
  EXPECT_EQ(p.counts.empty_records, 3);
  EXPECT_EQ(p.counts.sequences, 2);
}

TEST(DataFasta, InvalidCharacterErrorNamesFileLineAndCharacter) {
  const std::string msg = error_of<core::InputError>([] { parse_text(">a\nMKV\nMJV\n"); });
  EXPECT_NE(msg.find("in.fasta:3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'J'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--on-invalid"), std::string::npos) << msg;
}

TEST(DataFasta, InvalidPolicyUnkAndSkip) {
  const std::string text = ">a\nMJV-\n>b\nMKV\n>c\nM1\n";
  const Parsed unk = parse_text(text, InvalidPolicy::Unk);
  ASSERT_EQ(unk.records.size(), 3u);
  EXPECT_EQ(unk.records[0].second, "M<unk>V<unk>");
  EXPECT_EQ(unk.counts.unknown_residues, 3);
  EXPECT_EQ(unk.counts.records_with_invalid, 2);
  const Parsed skip = parse_text(text, InvalidPolicy::Skip);
  ASSERT_EQ(skip.records.size(), 1u);
  EXPECT_EQ(skip.records[0].first, "b");
  EXPECT_EQ(skip.counts.skipped_invalid, 2);
  EXPECT_EQ(skip.counts.invalid_characters, 3);
}

TEST(DataFasta, SequenceBeforeTheFirstHeaderIsAnError) {
  const std::string msg = error_of<core::InputError>([] { parse_text("\nMKV\n>a\nMK\n"); });
  EXPECT_NE(msg.find("in.fasta:2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("before the first header"), std::string::npos) << msg;
}

TEST(DataFasta, HeaderWithoutIdIsAnError) {
  const std::string msg = error_of<core::InputError>([] { parse_text(">a\nMK\n> no id\nMK\n"); });
  EXPECT_NE(msg.find("in.fasta:3"), std::string::npos) << msg;
}

TEST(DataFasta, ResultDoesNotDependOnBufferBoundaries) {
  const auto proteins = ankh::testing::random_proteins(40, 7, 1, 90);
  std::string text = ankh::testing::fasta_text(proteins, 13, "\r\n");
  text += ">last with a long header " + std::string(100, 'h') + "\nmkv*";
  const Parsed whole = parse_text(text);
  ASSERT_EQ(whole.records.size(), 41u);
  for (std::size_t i = 0; i < proteins.size(); ++i) {
    EXPECT_EQ(whole.records[i].first, proteins[i].id);
    EXPECT_EQ(whole.records[i].second, proteins[i].sequence);
  }
  for (std::size_t buffer : {1, 2, 3, 5, 8, 13, 64, 1000}) {
    const Parsed p = parse_text(text, InvalidPolicy::Error, buffer);
    EXPECT_EQ(p.records, whole.records) << "buffer " << buffer;
    EXPECT_EQ(p.counts.stripped_stops, 1) << "buffer " << buffer;
  }
}

TEST(DataFasta, GzipGivesTheSameRecordsAsPlain) {
  ScratchDir dir;
  const std::string text = ankh::testing::fasta_text(ankh::testing::random_proteins(200, 3));
  write_bytes(dir / "a.fasta", text);
  write_gzip(dir / "a.fasta.gz", text);
  write_gzip(dir / "no-suffix", text);  // detected by the magic bytes, not the name
  const Parsed plain = parse_file(dir / "a.fasta");
  EXPECT_EQ(parse_file(dir / "a.fasta.gz").records, plain.records);
  EXPECT_EQ(parse_file(dir / "no-suffix").records, plain.records);
}

TEST(DataFasta, TruncatedGzipIsAnError) {
  ScratchDir dir;
  write_gzip(dir / "full.gz", ankh::testing::fasta_text(ankh::testing::random_proteins(500, 4)));
  const std::string bytes = core::read_file(dir / "full.gz");
  write_bytes(dir / "cut.gz", bytes.substr(0, bytes.size() / 2));
  const std::string msg = error_of<core::InputError>([&] { parse_file(dir / "cut.gz"); });
  EXPECT_NE(msg.find("truncated gzip"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cut.gz"), std::string::npos) << msg;
}

TEST(DataFasta, UnreadableFileIsAnIoErrorNamingIt) {
  ScratchDir dir;
  const std::string msg = error_of<core::IoError>([&] { InputStream::open(dir / "missing.fasta"); });
  EXPECT_NE(msg.find("missing.fasta"), std::string::npos) << msg;
}
