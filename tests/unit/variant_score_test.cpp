// `ankh score`: mutant parsing and its errors, the CSV kept verbatim, Spearman with ties, and the
// masked-marginal score equal to a direct computation (masked input and teacher-forced target
// built by hand, encode + decode, log-softmax, sum), independent of pass sharing and batching.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include <torch/torch.h>

#include "checkpoints/checkpoint_dir.h"
#include "core/error.h"
#include "core/files.h"
#include "data/vocab.h"
#include "tests/support/test_support.h"
#include "tests/unit/data_test_util.h"
#include "trainer/generation/mutations.h"
#include "trainer/generation/variant_scoring.h"
#include "trainer/run_config.h"
#include "trainer/weights/exporter.h"
#include "trainer/weights/model_io.h"

namespace ankh::generation {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::ScratchDir;

// --- mutants -------------------------------------------------------------------------------------

TEST(ParseMutant, SinglesAndMultiMutantsSortedByPosition) {
  const auto one = parse_mutant("A23G", "row 1");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].position, 23);
  EXPECT_EQ(one[0].wild_type, 'A');
  EXPECT_EQ(one[0].mutant, 'G');
  const auto two = parse_mutant("K40R : A23G", "row 2");
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].position, 23);
  EXPECT_EQ(two[1].position, 40);
  EXPECT_EQ(two[1].wild_type, 'K');
  EXPECT_EQ(two[1].mutant, 'R');
  EXPECT_TRUE(parse_mutant("", "r").empty());
  EXPECT_TRUE(parse_mutant("_wt", "r").empty());
  EXPECT_EQ(parse_mutant("A23A", "r").size(), 1u);  // synonymous: allowed, scores 0
}

TEST(ParseMutant, BadTextIsAnErrorNamingTheRowAndTheText) {
  const auto bad = [](const std::string& text) {
    return error_of<core::InputError>([&] { parse_mutant(text, "muts.csv:7 (row 6)"); });
  };
  for (const std::string text : {"A23", "23G", "A2x3G", "AG", "a23g", "A23G:", "A23G;K40R"}) {
    const std::string e = bad(text);
    EXPECT_NE(e.find("muts.csv:7 (row 6)"), std::string::npos) << e;
    EXPECT_NE(e.find("'" + text + "'"), std::string::npos) << e;
  }
  EXPECT_NE(bad("A0G").find("1-based"), std::string::npos);
  EXPECT_NE(bad("A23G:A23K").find("position 23 is changed twice"), std::string::npos);
  EXPECT_NE(bad("A23*").find("stop"), std::string::npos);
  EXPECT_NE(bad("A23_K24insG").find("insertion"), std::string::npos);
  EXPECT_NE(bad("A23del").find("deletion"), std::string::npos);
  EXPECT_NE(bad("A23-").find("deletion"), std::string::npos);
  std::string many;
  for (int i = 1; i <= 117; ++i) many += (i > 1 ? ":" : "") + std::string("A") + std::to_string(i) + "G";
  EXPECT_NE(bad(many).find("117 positions, more than the 116 sentinels"), std::string::npos);
}

TEST(CheckMutant, OutOfRangeAndWrongWildTypeNameTheRow) {
  const std::string protein = "MKTAYIAK";
  EXPECT_NO_THROW(check_mutant(parse_mutant("M1A:K8R", "r"), protein, "M1A:K8R", "P1", "r"));
  std::string e = error_of<core::InputError>(
      [&] { check_mutant(parse_mutant("K9R", "r"), protein, "K9R", "P1", "m.csv:4 (row 3)"); });
  EXPECT_NE(e.find("m.csv:4 (row 3)"), std::string::npos) << e;
  EXPECT_NE(e.find("position 9 of K9R is outside protein 'P1' of 8 residues"), std::string::npos) << e;
  e = error_of<core::InputError>([&] { check_mutant(parse_mutant("M1A:A3G", "r"), protein, "M1A:A3G", "P1", "m.csv:5 (row 4)"); });
  EXPECT_NE(e.find("m.csv:5 (row 4)"), std::string::npos) << e;
  EXPECT_NE(e.find("'M1A:A3G'"), std::string::npos) << e;
  EXPECT_NE(e.find("A3G names wild type A but protein 'P1' has T at position 3"), std::string::npos) << e;
}

// --- CSV -----------------------------------------------------------------------------------------

TEST(Csv, QuotedFieldsParseAndRowsAreWrittenBackVerbatim) {
  const std::string text = "\xEF\xBB\xBFmutant,\"note, with comma\",DMS_score\r\nA1G,\"say \"\"hi\"\"\",0.5\r\n\r\n"
                           "\"K2R:A1G\",\"two\nlines\",NA\r\nC3D,,-1\r\n";
  const CsvTable t = parse_csv(text, "in.csv");
  ASSERT_EQ(t.header.size(), 3u);
  EXPECT_EQ(t.header[1], "note, with comma");
  EXPECT_EQ(t.column("DMS_score"), 2);
  EXPECT_EQ(t.column("protein"), -1);
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0][1], "say \"hi\"");
  EXPECT_EQ(t.rows[1][0], "K2R:A1G");
  EXPECT_EQ(t.rows[1][1], "two\nlines");
  EXPECT_EQ(t.rows[2][1], "");
  EXPECT_EQ(t.lines, (std::vector<int64_t>{2, 4, 6}));
  EXPECT_EQ(t.line_end, "\r\n");
  EXPECT_EQ(csv_with_column(t, "score", {"1", "2,5", "3"}),
            "mutant,\"note, with comma\",DMS_score,score\r\nA1G,\"say \"\"hi\"\"\",0.5,1\r\n"
            "\"K2R:A1G\",\"two\nlines\",NA,\"2,5\"\r\nC3D,,-1,3\r\n");
}

TEST(Csv, MalformedFilesNameTheLine) {
  EXPECT_NE(error_of<core::InputError>([] { parse_csv("mutant,x\nA1G\n", "in.csv"); }).find("in.csv:2"), std::string::npos);
  EXPECT_NE(error_of<core::InputError>([] { parse_csv("mutant\n\"A1G\n", "in.csv"); }).find("never closed"), std::string::npos);
  EXPECT_NE(error_of<core::InputError>([] { parse_csv("mutant\n\"A1G\"x\n", "in.csv"); }).find("after a closing quote"),
            std::string::npos);
  EXPECT_NE(error_of<core::InputError>([] { parse_csv("", "in.csv"); }).find("empty CSV"), std::string::npos);
  EXPECT_NE(error_of<core::InputError>([] { parse_csv("a,a\n", "in.csv"); }).find("appears twice"), std::string::npos);
}

// --- Spearman ------------------------------------------------------------------------------------

TEST(Spearman, AverageRanksForTiesAndKnownValues) {
  EXPECT_EQ(average_ranks({10, 20, 10, 30}), (std::vector<double>{1.5, 3, 1.5, 4}));
  EXPECT_EQ(average_ranks({5, 5, 5}), (std::vector<double>{2, 2, 2}));
  EXPECT_DOUBLE_EQ(spearman({1, 2, 3, 4, 5}, {2, 4, 8, 16, 32}), 1.0);
  EXPECT_DOUBLE_EQ(spearman({1, 2, 3, 4, 5}, {5, 4, 3, 2, 1}), -1.0);
  // scipy.stats.spearmanr([1,2,3,4,5], [5,6,7,8,7]) = 0.8207826816681233
  EXPECT_NEAR(spearman({1, 2, 3, 4, 5}, {5, 6, 7, 8, 7}), 0.8207826816681233, 1e-12);
  // scipy.stats.spearmanr([3,1,4,1,5,9,2,6], [2,7,1,8,2,8,1,8]) = 0.19885368120992467
  EXPECT_NEAR(spearman({3, 1, 4, 1, 5, 9, 2, 6}, {2, 7, 1, 8, 2, 8, 1, 8}), 0.19885368120992467, 1e-12);
  EXPECT_TRUE(std::isnan(spearman({1}, {2})));
  EXPECT_TRUE(std::isnan(spearman({1, 2, 3}, {4, 4, 4})));
}

// --- scores --------------------------------------------------------------------------------------

model::T5Model random_model(const model::ModelConfig& config) { return testing::perturbed_model(config, 5, 0.05); }

Variant variant(int64_t protein, const std::string& text, const std::string& sequence) {
  Variant v{protein, parse_mutant(text, text)};
  check_mutant(v.substitutions, sequence, text, "p", text);
  return v;
}

// The definition, built by hand for one mutant.
double direct_score(model::T5Model& m, const std::string& sequence, const std::vector<Substitution>& subs) {
  std::vector<int64_t> input, decoder_input{data::kPad};
  for (const char c : sequence) input.push_back(data::residue_id(static_cast<unsigned char>(c)));
  int64_t k = 0;
  for (const Substitution& s : subs) {
    const int64_t id = data::kVocabSize - 1 - k++;  // <extra_id_k>
    input[static_cast<std::size_t>(s.position - 1)] = id;
    decoder_input.push_back(id);
    decoder_input.push_back(data::residue_id(static_cast<unsigned char>(s.wild_type)));
  }
  input.push_back(data::kEos);
  // decoder_input = <pad> + target (<extra_id_0> r_1 ... r_m </s>) shifted right: ends with r_m.
  torch::NoGradGuard no_grad;
  const torch::Tensor ids = torch::tensor(input).unsqueeze(0), dec = torch::tensor(decoder_input).unsqueeze(0);
  const torch::Tensor hidden = m->encode(ids, torch::ones_like(ids));
  const torch::Tensor lp = m->decode(dec, torch::ones_like(dec), hidden, torch::ones_like(ids)).log_softmax(-1)[0];
  double sum = 0;
  for (std::size_t i = 0; i < subs.size(); ++i) {
    const auto step = static_cast<int64_t>(2 * i + 1);
    sum += lp[step][data::residue_id(static_cast<unsigned char>(subs[i].mutant))].item<double>() -
           lp[step][data::residue_id(static_cast<unsigned char>(subs[i].wild_type))].item<double>();
  }
  return sum;
}

struct ScoreSetup {
  model::T5Model model = random_model(testing::tiny_model_config());
  std::vector<std::string> letters = {"MKTAYIAKQRQISFVKSHFSRQ", "GAVLIPFWMC", "ACDEFGHIKLMNPQRSTVWYACDEFGHIKLMNPQRSTVWY"};
  std::vector<std::vector<uint8_t>> proteins;
  std::vector<Variant> variants;
  ScoreSetup() {
    for (const auto& l : letters) proteins.push_back(testing::residue_ids(l));
    const std::vector<std::pair<int64_t, std::string>> texts = {
        {0, "K2R"}, {0, "K2A"}, {0, "A4G:K8R"}, {1, "G1A"}, {0, "K8R:A4G"}, {2, "A1C:C2A:W19Y:Y40A"}, {0, "_wt"},
        {1, "V3V"}, {2, "D3E"},  {0, "K2W"},     {1, "C10A:W8F"}, {2, "Y20W"}};
    for (const auto& [p, t] : texts) variants.push_back(variant(p, t, letters[static_cast<std::size_t>(p)]));
  }
};

TEST(ScoreVariants, EqualsTheDirectComputation) {
  ScoreSetup s;
  ScoreBatchOptions one;
  one.batch_size = 1;  // no padding: the same shapes as the direct computation
  const auto scores = score_variants(s.model, s.proteins, s.variants, one);
  ScoreStats stats;
  const auto batched = score_variants(s.model, s.proteins, s.variants, {}, &stats);  // padded to the longest
  ASSERT_EQ(scores.size(), s.variants.size());
  for (std::size_t v = 0; v < s.variants.size(); ++v) {
    const auto& var = s.variants[v];
    const double direct = direct_score(s.model, s.letters[static_cast<std::size_t>(var.protein)], var.substitutions);
    EXPECT_NEAR(scores[v], direct, 1e-6) << v;
    EXPECT_NEAR(batched[v], direct, 1e-5) << v;
  }
  EXPECT_EQ(scores[6], 0.0);  // the wild type
  EXPECT_EQ(scores[7], 0.0);  // synonymous
  EXPECT_NE(scores[0], 0.0);
  EXPECT_EQ(scores[2], scores[4]);  // the same mutant written in another order
  // Passes: {0:2}, {0:4,8}, {1:1}, {2:1,2,19,40}, {1:3}, {2:3}, {1:8,10}, {2:20}.
  EXPECT_EQ(stats.passes, 8);
  EXPECT_EQ(stats.batches, 1);
}

TEST(ScoreVariants, SharedPassesEqualScoringOneByOneAndBatchingDoesNotMatter) {
  ScoreSetup s;
  // All 19 single mutants of position 5 of protein 0 (one pass), among the others.
  const std::string standard = "ACDEFGHIKLMNPQRSTVWY";
  for (const char c : standard)
    if (c != s.letters[0][4]) s.variants.push_back(variant(0, std::string(1, s.letters[0][4]) + "5" + c, s.letters[0]));
  ScoreBatchOptions one;
  one.batch_size = 1;
  ScoreStats stats;
  const auto together = score_variants(s.model, s.proteins, s.variants, one, &stats);
  EXPECT_EQ(stats.passes, 9);
  for (std::size_t v = 0; v < s.variants.size(); ++v) {
    const auto alone = score_variants(s.model, s.proteins, {s.variants[v]}, one);
    EXPECT_NEAR(together[v], alone[0], 1e-6) << v;
  }
  for (const int64_t batch : {2, 3, 5, 32}) {  // padded to each batch's longest: float rounding only
    ScoreBatchOptions o;
    o.batch_size = batch;
    ScoreStats st;
    const auto scores = score_variants(s.model, s.proteins, s.variants, o, &st);
    EXPECT_EQ(st.batches, (9 + batch - 1) / batch);
    for (std::size_t v = 0; v < s.variants.size(); ++v) EXPECT_NEAR(scores[v], together[v], 1e-5) << "batch " << batch << " row " << v;
  }
}

// --- the file path ---------------------------------------------------------------------------------

struct FileSetup {
  ScratchDir scratch{"ankh-score"};
  trainer::RunConfig config = testing::tiny_run_config(scratch / "run", {"model.decoder_layers=1"});
  model::T5Model model = random_model(config.model);
  fs::path checkpoint;
  fs::path fasta = scratch / "wt.fasta";
  std::vector<std::string> letters = {"MKTAYIAKQRQISFVKSHFSRQ", "GAVLIPFWMC"};

  FileSetup() {
    auto w = checkpoints::CheckpointWriter::begin(config.run.dir, 3, {/*background=*/false});
    w.write_tensors("model.safetensors", weights::parameters_of(model));
    w.write_json("state.json", {{"step", 3}});
    w.write_text("config.yaml", trainer::to_yaml(config));
    checkpoint = w.commit();
    testing::write_text(fasta, ">P1 first\n" + letters[0] + "\n>P2 second\n" + letters[1] + "\n");
  }
  ScoreOptions options(const std::string& csv, const std::string& text, const std::string& output = "out.csv") {
    testing::write_text(scratch / csv, text);
    ScoreOptions o;
    o.source = checkpoint;
    o.fasta = fasta;
    o.mutations = scratch / csv;
    o.output = scratch / output;
    return o;
  }
};

TEST(ScoreFile, KeepsRowsColumnsAndOrderAndReportsSpearman) {
  FileSetup s;
  const std::string input =
      "id,protein,mutant,DMS_score,\"a, b\"\n"
      "1,P2,G1A,0.5,x\n"
      "2,P1,K2R,NA,\"y,z\"\n"
      "3,P1,A4G:K8R,-1.5,\n"
      "4,P2,V3V,2,w\n"
      "5,P1,K2A,,v\n"
      "6,P1,M1W,0.25,u\n";
  const auto r = score_file(s.options("in.csv", input));
  EXPECT_EQ(r.rows, 6);
  EXPECT_EQ(r.proteins, 2);
  EXPECT_EQ(r.stats.passes, 5);
  EXPECT_EQ(r.step, 3);
  EXPECT_TRUE(r.has_dms);
  EXPECT_EQ(r.dms_skipped, 2);
  EXPECT_EQ(r.overall.pairs, 4);
  ASSERT_EQ(r.per_protein.size(), 2u);
  EXPECT_EQ(r.per_protein[0].protein, "P1");
  EXPECT_EQ(r.per_protein[0].pairs, 2);

  const std::string out = core::read_file(s.scratch / "out.csv");
  const CsvTable in_table = parse_csv(input, "in"), out_table = parse_csv(out, "out");
  ASSERT_EQ(out_table.rows.size(), 6u);
  EXPECT_EQ(out_table.header.back(), "score");
  EXPECT_EQ(out_table.header_raw, in_table.header_raw + ",score");
  std::vector<double> scores, dms;
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(out_table.raw[i].substr(0, in_table.raw[i].size() + 1), in_table.raw[i] + ",") << i;
    const double score = std::stod(out_table.rows[i].back());
    const int64_t p = in_table.rows[i][1] == "P1" ? 0 : 1;
    EXPECT_NEAR(score,
                direct_score(s.model, s.letters[static_cast<std::size_t>(p)], parse_mutant(in_table.rows[i][2], "")), 2e-6)
        << i;
    if (i != 1 && i != 4) {
      scores.push_back(score);
      dms.push_back(std::stod(in_table.rows[i][3]));
    }
  }
  EXPECT_EQ(out_table.rows[3].back(), "0.000000");  // synonymous
  EXPECT_NEAR(r.overall.spearman, spearman(scores, dms), 1e-12);

  // An existing output is refused without overwrite, replaced with it.
  auto again = s.options("in.csv", input);
  EXPECT_NE(error_of<core::IoError>([&] { score_file(again); }).find("already exists"), std::string::npos);
  again.overwrite = true;
  again.batch.batch_size = 1;
  score_file(again);
  const CsvTable replaced = parse_csv(core::read_file(s.scratch / "out.csv"), "out");
  ASSERT_EQ(replaced.rows.size(), 6u);
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(replaced.raw[i].substr(0, in_table.raw[i].size()), in_table.raw[i]);
    EXPECT_NEAR(std::stod(replaced.rows[i].back()), std::stod(out_table.rows[i].back()), 1e-5) << i;
  }
}

TEST(ScoreFile, BadInputsNameTheRowAndLeaveNoOutput) {
  FileSetup s;
  const auto fails = [&](const std::string& text) {
    const std::string e = testing::error_of([&] { score_file(s.options("bad.csv", text, "bad-out.csv")); });
    EXPECT_FALSE(fs::exists(s.scratch / "bad-out.csv"));
    return e;
  };
  EXPECT_NE(fails("variant,DMS_score\nA1G,1\n").find("no column 'mutant'"), std::string::npos);
  EXPECT_NE(fails("mutant\nK2R\n").find("no column 'protein'"), std::string::npos);
  std::string e = fails("protein,mutant\nP1,K2R\nP1,A3G\n");
  EXPECT_NE(e.find("bad.csv:3 (row 2)"), std::string::npos) << e;
  EXPECT_NE(e.find("A3G names wild type A but protein 'P1' has T at position 3"), std::string::npos) << e;
  e = fails("protein,mutant\nP1,K2R\nP3,A3G\n");
  EXPECT_NE(e.find("bad.csv:3 (row 2): protein 'P3' is not a record"), std::string::npos) << e;
  e = fails("protein,mutant\nP2,C11A\n");
  EXPECT_NE(e.find("outside protein 'P2' of 10 residues"), std::string::npos) << e;
  e = fails("protein,mutant,DMS_score\nP2,G1A,high\n");
  EXPECT_NE(e.find("DMS_score 'high' is not a number"), std::string::npos) << e;

  // An encoder-only export has no decoder.
  weights::ExportOptions x;
  x.checkpoint = s.checkpoint;
  x.output = s.scratch / "hf-encoder";
  x.encoder_only = true;
  weights::export_checkpoint(x);
  auto o = s.options("ok.csv", "protein,mutant\nP2,G1A\n", "enc.csv");
  o.source = x.output;
  e = testing::error_of([&] { score_file(o); });
  EXPECT_NE(e.find("an encoder-only model cannot score variants: it has no decoder"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(s.scratch / "enc.csv"));

  // A full export scores like the checkpoint.
  x.output = s.scratch / "hf-full";
  x.encoder_only = false;
  weights::export_checkpoint(x);
  o = s.options("ok.csv", "protein,mutant\nP2,G1A\nP1,K2R:A4G\n", "ckpt.csv");
  score_file(o);
  o.source = x.output;
  o.output = s.scratch / "hf.csv";
  score_file(o);
  EXPECT_EQ(core::read_file(s.scratch / "hf.csv"), core::read_file(s.scratch / "ckpt.csv"));
}

}  // namespace
}  // namespace ankh::generation
