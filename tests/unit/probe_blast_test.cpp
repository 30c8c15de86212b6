// The BLAST baseline with the real NCBI BLAST+ programs (skipped where they are not installed):
// queries made from lookup proteins by a few mutations must find their source, scored by the
// identity; a BLAST database must read back through blastdbcmd. Also the program runner that
// starts them (core/subprocess.h).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/files.h"
#include "core/hash.h"
#include "core/subprocess.h"
#include "tests/support/test_support.h"
#include "trainer/probe/blast_baseline.h"
#include "trainer/probe/blast_db.h"

using namespace ankh::probe;
using ankh::testing::error_of;
using ankh::testing::ScratchDir;
using ankh::testing::write_text;

namespace {

constexpr const char* kAminoAcids = "ACDEFGHIKLMNPQRSTVWY";

bool have_blast() {
  for (const char* program : {"makeblastdb", "blastp", "blastdbcmd"})
    if (!ankh::core::find_program(program)) return false;
  return true;
}

std::string random_protein(uint64_t seed, std::size_t length) {
  ankh::core::SplitMix64 rng(seed);
  std::string s;
  for (std::size_t i = 0; i < length; ++i) s += kAminoAcids[rng.below(20)];
  return s;
}

// `s` with `count` residues at distinct positions replaced by different ones.
std::string mutate(std::string s, uint64_t seed, int count) {
  ankh::core::SplitMix64 rng(seed);
  std::vector<bool> done(s.size());
  for (int m = 0; m < count;) {
    const auto at = static_cast<std::size_t>(rng.below(s.size()));
    if (done[at]) continue;
    const char before = s[at];
    while (s[at] == before) s[at] = kAminoAcids[rng.below(20)];
    done[at] = true;
    ++m;
  }
  return s;
}

}  // namespace

TEST(BlastBaseline, EachQueryFindsItsSourceScoredByIdentity) {
  if (!have_blast()) GTEST_SKIP() << "NCBI BLAST+ is not installed (apt-get install ncbi-blast+; scripts/setup.sh)";
  constexpr std::size_t kLength = 150;
  constexpr int kMutations = 3;
  std::vector<Protein> lookup;
  for (int i = 0; i < 5; ++i) lookup.push_back({"P" + std::to_string(i) + "|GO:x", random_protein(100 + i, kLength)});
  // Query q comes from lookup protein source[q]; the last query has no residues and no hit.
  const std::vector<int64_t> source = {3, 0, 4, 1};
  std::vector<Protein> queries;
  for (std::size_t q = 0; q < source.size(); ++q)
    queries.push_back({"Q" + std::to_string(q), mutate(lookup[static_cast<std::size_t>(source[q])].sequence, q, kMutations)});
  queries.push_back({"empty", ""});

  ScratchDir dir;
  BlastOptions options;
  options.work_dir = dir / "work dir";  // a space: BLAST+ must be given names it cannot split
  const std::vector<BlastHit> hits = blast_best_hits(lookup, queries, options);
  ASSERT_EQ(hits.size(), queries.size());
  const double identity = static_cast<double>(kLength - kMutations) / kLength;  // 147/150 = 0.98
  for (std::size_t q = 0; q < source.size(); ++q) {
    EXPECT_EQ(hits[q].subject, source[q]) << "query " << q;
    EXPECT_NEAR(hits[q].identity, identity, 1e-5) << "query " << q;
    EXPECT_GT(hits[q].bitscore, 100) << "query " << q;
  }
  EXPECT_EQ(hits.back().subject, -1);

  // Terms of lookup protein j: {10 j, 10 j + 1}; a query gets its source's, scored 0.98.
  std::vector<TermSet> lookup_terms;
  for (TermId j = 0; j < 5; ++j) lookup_terms.push_back({10 * j, 10 * j + 1});
  const std::vector<Prediction> predictions = transfer_best_hits(hits, lookup_terms);
  ASSERT_EQ(predictions.size(), queries.size());
  for (std::size_t q = 0; q < source.size(); ++q) {
    ASSERT_EQ(predictions[q].size(), 2u);
    EXPECT_EQ(predictions[q][0].term, 10 * source[q]);
    EXPECT_EQ(predictions[q][1].term, 10 * source[q] + 1);
    EXPECT_NEAR(predictions[q][0].score, identity, 1e-5);
  }
  EXPECT_TRUE(predictions.back().empty());
}

TEST(BlastBaseline, BestHitsOfATable) {
  ScratchDir dir;
  // Q0 has two hits (the higher bit score wins, wherever it stands); Q1 none; Q2 one.
  write_text(dir / "hits.tsv",
             "Q0\tL1\t50.000\t1e-5\t40.1\n"
             "Q0\tL2\t75.500\t1e-20\t80\n"
             "Q2\tL0\t100.000\t0.0\t300\n");
  const std::vector<BlastHit> hits = read_best_hits(dir / "hits.tsv", 3, 3);
  EXPECT_EQ(hits[0].subject, 2);
  EXPECT_DOUBLE_EQ(hits[0].identity, 0.755);
  EXPECT_DOUBLE_EQ(hits[0].bitscore, 80);
  EXPECT_EQ(hits[1].subject, -1);
  EXPECT_EQ(hits[2].subject, 0);
  EXPECT_DOUBLE_EQ(hits[2].identity, 1.0);

  write_text(dir / "bad.tsv", "Q0\tL1\t50\t1e-5\t40\nQ0\tL7\t50\t1e-5\t40\n");
  const std::string error = error_of<ankh::core::InputError>([&] { read_best_hits(dir / "bad.tsv", 1, 3); });
  EXPECT_NE(error.find("bad.tsv:2: 'L7' is not one of the 3 lookup proteins"), std::string::npos) << error;
}

TEST(BlastDb, ReadsADatabaseBackThroughBlastdbcmd) {
  if (!have_blast()) GTEST_SKIP() << "NCBI BLAST+ is not installed (apt-get install ncbi-blast+; scripts/setup.sh)";
  ScratchDir dir;
  const std::string long_protein = random_protein(7, 200);  // longer than a FASTA line
  write_text(dir / "db dir" / "proteins.fasta",
             ">B0RED7|GO:0046933,GO:0046933\nMGSASRASLD\nSARRVLAELG\n"
             ">P2 a description\nmktayiakqr\n"
             ">P3\n" + long_protein + "\n");
  make_blast_db(dir / "db dir" / "proteins.fasta", dir / "db dir" / "proteins");
  const std::vector<Protein> proteins = read_blast_db(dir / "db dir" / "proteins");
  ASSERT_EQ(proteins.size(), 3u);
  EXPECT_EQ(proteins[0].id, "B0RED7");
  EXPECT_EQ(proteins[0].sequence, "MGSASRASLDSARRVLAELG");
  EXPECT_EQ(proteins[1].id, "P2");
  EXPECT_EQ(proteins[1].sequence, "MKTAYIAKQR");
  EXPECT_EQ(proteins[2].id, "P3");
  EXPECT_EQ(proteins[2].sequence, long_protein);

  const std::string missing = error_of<ankh::core::IoError>([&] { read_blast_db(dir / "no-such-db"); });
  EXPECT_NE(missing.find("blastdbcmd: failed with exit status"), std::string::npos) << missing;
}

TEST(Subprocess, RunsWithoutAShellAndReportsFailures) {
  ScratchDir dir;
  ankh::core::ProgramOptions to_file;
  to_file.stdout_path = dir / "out.txt";
  ankh::core::run_program({"printf", "%s|", "two words", "$HOME"}, to_file);
  EXPECT_EQ(ankh::core::read_file(dir / "out.txt"), "two words|$HOME|");  // no splitting, no expansion

  const auto captured = ankh::core::run_program({"sh", "-c", "echo to-stdout; echo to-stderr >&2"});
  EXPECT_NE(captured.output.find("to-stdout"), std::string::npos);
  EXPECT_NE(captured.output.find("to-stderr"), std::string::npos);

  const std::string failed = error_of<ankh::core::IoError>(
      [] { ankh::core::run_program({"sh", "-c", "echo first; echo 'what went wrong' >&2; exit 3"}); });
  EXPECT_NE(failed.find("sh: failed with exit status 3"), std::string::npos) << failed;
  EXPECT_NE(failed.find("what went wrong"), std::string::npos) << failed;

  ankh::core::ProgramOptions hinted;
  hinted.missing_hint = "install it";
  const std::string missing =
      error_of<ankh::core::IoError>([&] { ankh::core::run_program({"ankh-no-such-program"}, hinted); });
  EXPECT_NE(missing.find("ankh-no-such-program: program not found on PATH"), std::string::npos) << missing;
  EXPECT_NE(missing.find("hint: install it"), std::string::npos) << missing;
  EXPECT_FALSE(ankh::core::find_program("ankh-no-such-program"));
  EXPECT_TRUE(ankh::core::find_program("sh"));
}
