// `ankh generate` (docs/generation.md, "Generating proteins"): an infill changes only the chosen
// positions, its encoder input is the `ankh` objective's, the decoder's sentinels are forced in
// order and residues restricted to the standard ones; outputs do not depend on the batch size;
// beam search finds the best of all 400 fills of two positions; the FASTA output and every bad
// input named.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>

#include <torch/torch.h>

#include "checkpoints/checkpoint_dir.h"
#include "core/error.h"
#include "data/vocab.h"
#include "tests/support/test_support.h"
#include "tests/unit/data_test_util.h"
#include "trainer/generation/generate_fasta.h"
#include "trainer/generation/generator.h"
#include "trainer/generation/infill.h"
#include "trainer/generation/sampling.h"
#include "trainer/run_config.h"
#include "trainer/weights/exporter.h"
#include "trainer/weights/model_io.h"

namespace ankh::generation {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;
using testing::error_of;

// A peaked, input-dependent distribution: beam search and sampling have something to choose.
model::T5Model random_model(const trainer::RunConfig& config) { return testing::perturbed_model(config.model, 11, 0.3); }

struct GenSetup {
  ScratchDir scratch{"ankh-generate"};
  trainer::RunConfig config = testing::tiny_run_config(scratch / "run");
  model::T5Model model = random_model(config);
  std::vector<Seed> seeds;
  GenSetup() {
    for (const auto& p : testing::random_proteins(6, 5, 20, 60)) seeds.push_back({p.id, testing::residue_ids(p.sequence)});
  }
};

GenerateOptions sampling(int64_t num) {
  GenerateOptions o;
  o.num = num;
  o.mask_prob = 0.15;
  o.decoding.temperature = 1.5;
  o.seed = 7;
  return o;
}

TEST(GenerateInputs, PositionsParseAndBadOnesAreNamed) {
  EXPECT_EQ(parse_positions("12,40-45"), (std::vector<int64_t>{12, 40, 41, 42, 43, 44, 45}));
  EXPECT_EQ(parse_positions(" 3 , 1"), (std::vector<int64_t>{1, 3}));
  for (const char* bad : {"", "1,,2", "0", "a", "5-3", "2,2", "1-", "-4", "1.5"})
    EXPECT_NE(error_of<core::UsageError>([&] { parse_positions(bad); }).find("--positions"), std::string::npos) << bad;
}

TEST(GenerateInputs, InfillInputIsTheAnkhObjectives) {
  const auto seq = testing::residue_ids("MKVLA");
  EXPECT_EQ(infill_input(seq, {1, 3}, -1),
            (std::vector<int64_t>{seq[0], data::sentinel(0), seq[2], data::sentinel(1), seq[4], data::kEos}));
  EXPECT_EQ(infill_input(seq, {0}, 144).front(), 144);
  EXPECT_EQ(random_position_count(100, 0.1), 10);
  EXPECT_EQ(random_position_count(3, 0.01), 1);
  bool capped = false;
  EXPECT_EQ(random_position_count(1000, 0.5, &capped), data::kNumSentinels);
  EXPECT_TRUE(capped);
  EXPECT_EQ(mutation_list(testing::residue_ids("MKVLA"), testing::residue_ids("MRVLG")), "K2R,A5G");
  EXPECT_DOUBLE_EQ(identity(testing::residue_ids("MKVLA"), testing::residue_ids("MRVLG")), 0.6);
  EXPECT_EQ(prefix_residues(10, 0.5, 0), 5);
  EXPECT_EQ(prefix_residues(10, 0.5, 30), 9);
  EXPECT_EQ(default_max_new(10, 4), 9);
}

TEST(GenerateDecoding, SentinelsAreForcedAndResiduesStandard) {
  GenSetup s;
  DecodeJob job;
  job.input = infill_input(s.seeds[0].residues, {2, 5, 9}, -1);
  job.sentinels = 3;
  DecodingOptions o;
  o.temperature = 3.0;  // flat: every allowed token gets drawn now and then
  std::vector<DecodeJob> jobs;
  for (uint64_t i = 0; i < 40; ++i) {
    job.stream = i;
    jobs.push_back(job);
  }
  std::set<int64_t> drawn;
  for (const auto& d : decode_jobs(s.model, jobs, o, 16)) {
    ASSERT_EQ(d.size(), 1u);
    ASSERT_EQ(d[0].tokens.size(), 6u);  // </s> dropped
    for (int64_t k = 0; k < 3; ++k) {
      EXPECT_EQ(d[0].tokens[static_cast<std::size_t>(2 * k)], data::sentinel(k));
      const int64_t r = d[0].tokens[static_cast<std::size_t>(2 * k + 1)];
      EXPECT_TRUE(r >= data::kFirstResidue && r < data::kFirstResidue + 20) << r;
      drawn.insert(r);
    }
    EXPECT_EQ(d[0].residues, 3);
    // The reported score is the model's own: teacher forcing the output gives it back.
    auto full = d[0].tokens;
    full.push_back(data::kEos);
    EXPECT_NEAR(score_output(s.model, job, full).sum_logp, d[0].sum_logp, 1e-4);
  }
  EXPECT_GT(drawn.size(), 10u);
  o.allow_nonstandard = true;
  std::set<int64_t> any;
  for (const auto& d : decode_jobs(s.model, jobs, o, 16))
    for (std::size_t t = 1; t < d[0].tokens.size(); t += 2) any.insert(d[0].tokens[t]);
  EXPECT_TRUE(std::any_of(any.begin(), any.end(), [](int64_t r) { return r >= data::kFirstResidue + 20; }));
}

TEST(GenerateVariants, InfillChangesOnlyChosenPositionsAndIsReproducibleAcrossBatchSizes) {
  GenSetup s;
  auto o = sampling(5);
  o.batch_size = 1;
  const auto a = generate_variants(s.model, s.seeds, o, -1);
  o.batch_size = 7;
  const auto b = generate_variants(s.model, s.seeds, o, -1);
  torch::set_num_threads(2);
  o.batch_size = 32;
  const auto c = generate_variants(s.model, s.seeds, o, -1);
  torch::set_num_threads(1);
  ASSERT_EQ(a.size(), s.seeds.size());
  for (std::size_t i = 0; i < s.seeds.size(); ++i) {
    const auto& seed = s.seeds[i].residues;
    ASSERT_EQ(a[i].size(), 5u);
    std::set<std::vector<uint8_t>> distinct;
    for (std::size_t k = 0; k < 5; ++k) {
      const GeneratedVariant& v = a[i][k];
      EXPECT_NE(v.residues, seed);
      EXPECT_TRUE(distinct.insert(v.residues).second);
      EXPECT_EQ(static_cast<int64_t>(v.positions.size()), random_position_count(static_cast<int64_t>(seed.size()), 0.15));
      for (std::size_t p = 0; p < seed.size(); ++p) {
        const bool chosen = std::binary_search(v.positions.begin(), v.positions.end(), static_cast<int64_t>(p));
        if (!chosen) EXPECT_EQ(v.residues[p], seed[p]);
        else EXPECT_LT(v.residues[p], data::kFirstResidue + 20);
      }
      EXPECT_LE(v.sum_logp, 0);
      EXPECT_NEAR(v.mean_logp * static_cast<double>(v.positions.size()), v.sum_logp, 1e-9);
      for (const auto* other : {&b, &c}) {
        EXPECT_EQ((*other)[i][k].residues, v.residues);
        // Scored alone, whatever the batch: equal to far under the 1e-4 the headers print.
        EXPECT_NEAR((*other)[i][k].sum_logp, v.sum_logp, 1e-6);
      }
    }
  }
  // Another seed, other variants.
  o.seed = 8;
  EXPECT_NE(generate_variants(s.model, s.seeds, o, -1)[0][0].residues, a[0][0].residues);
}

TEST(GenerateVariants, BeamSearchFindsTheBestOfAllFillsOfTwoPositions) {
  GenSetup s;
  DecodeJob job;
  job.input = infill_input(s.seeds[1].residues, {3, 10}, -1);
  job.sentinels = 2;
  double best = -1e300;
  std::vector<int64_t> best_tokens;
  std::vector<double> all;
  for (int64_t x = 0; x < 20; ++x)
    for (int64_t y = 0; y < 20; ++y) {
      const std::vector<int64_t> t{data::sentinel(0), data::kFirstResidue + x, data::sentinel(1), data::kFirstResidue + y, data::kEos};
      const double score = score_output(s.model, job, t).sum_logp;
      all.push_back(score);
      if (score > best) best = score, best_tokens = {t.begin(), t.end() - 1};
    }
  DecodingOptions o;
  o.beam = 20;
  const auto d = decode_jobs(s.model, {job}, o, 4);
  ASSERT_EQ(d[0].size(), 20u);
  EXPECT_EQ(d[0][0].tokens, best_tokens);
  EXPECT_NEAR(d[0][0].sum_logp, best, 1e-4);
  for (std::size_t k = 1; k < d[0].size(); ++k) EXPECT_LE(d[0][k].sum_logp, d[0][k - 1].sum_logp);
  std::sort(all.rbegin(), all.rend());
  for (std::size_t k = 0; k < 20; ++k) EXPECT_NEAR(d[0][k].sum_logp, all[k], 1e-4) << k;  // two steps of width 20 are exact
  // Through generate_variants: fixed positions, beam >= num, best first (unless equal to the seed).
  GenerateOptions g;
  g.positions = "4,11";
  g.num = 3;
  g.decoding.beam = 20;
  const auto v = generate_variants(s.model, {s.seeds[1]}, g, -1);
  ASSERT_EQ(v[0].size(), 3u);
  EXPECT_GE(v[0][0].sum_logp, v[0][1].sum_logp);
  // Greedy = the best first step, then the best second: a variant, scored the same way.
  DecodingOptions greedy;
  EXPECT_LE(decode_jobs(s.model, {job}, greedy, 1)[0][0].sum_logp, best + 1e-4);
}

TEST(GenerateDecoding, DecoderCacheGivesWhatTheFullPrefixGives) {
  GenSetup s;
  std::vector<DecodeJob> jobs;
  for (uint64_t i = 0; i < 6; ++i) {
    DecodeJob job;
    if (i % 2 == 0) {
      job.input = infill_input(s.seeds[i].residues, {1, 4, 7, 8}, -1);
      job.sentinels = 4;
    } else {
      job.input = completion_input(s.seeds[i].residues, 8, -1);
      job.max_new = 12;
    }
    job.stream = i;
    jobs.push_back(job);
  }
  DecodingOptions sample, beam;
  sample.temperature = 1.0;
  beam.beam = 3;
  for (const auto& o : {sample, beam, DecodingOptions()}) {
    const auto a = decode_jobs(s.model, jobs, o, 4, /*incremental=*/true);
    const auto b = decode_jobs(s.model, jobs, o, 4, /*incremental=*/false);
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      ASSERT_EQ(a[j].size(), b[j].size()) << j;
      for (std::size_t k = 0; k < a[j].size(); ++k) {
        EXPECT_EQ(a[j][k].tokens, b[j][k].tokens) << j;
        // fp32 rounding of two GEMM groupings (one token's rows against the whole prefix's),
        // summed over the chosen tokens: relative, as the sums reach tens. The logits themselves
        // agree to 1e-6 (model_decoding_test.cpp).
        EXPECT_NEAR(a[j][k].sum_logp, b[j][k].sum_logp, 5e-5 * std::abs(b[j][k].sum_logp)) << j;
      }
    }
  }
}

TEST(GenerateVariants, CompletionKeepsThePrefixAndEnds) {
  GenSetup s;
  auto o = sampling(3);
  o.mode = GenerateMode::kComplete;
  o.prefix_length = 10;
  o.max_new = 15;
  const auto v = generate_variants(s.model, s.seeds, o, -1);
  for (std::size_t i = 0; i < s.seeds.size(); ++i) {
    ASSERT_EQ(v[i].size(), 3u);
    for (const auto& x : v[i]) {
      EXPECT_EQ(x.prefix, 10);
      EXPECT_TRUE(std::equal(s.seeds[i].residues.begin(), s.seeds[i].residues.begin() + 10, x.residues.begin()));
      EXPECT_LE(x.residues.size(), 25u);
    }
  }
  o.decoding = DecodingOptions();
  o.decoding.beam = 4;
  EXPECT_EQ(generate_variants(s.model, s.seeds, o, -1)[0].size(), 3u);
}

TEST(GenerateVariants, BadInputsAreNamed) {
  GenSetup s;
  const auto fails = [&](GenerateOptions o, const std::string& expected) {
    const std::string e = error_of([&] { generate_variants(s.model, s.seeds, o, -1); });
    EXPECT_NE(e.find(expected), std::string::npos) << e;
  };
  auto o = sampling(0);
  fails(o, "--num");
  o = sampling(1);
  o.positions = "3,500";
  fails(o, "past the end of seed '" + s.seeds[0].id + "'");
  o.positions = "x";
  fails(o, "--positions");
  o = sampling(1);
  o.decoding.beam = 3;
  fails(o, "--beam cannot be combined");
  o = GenerateOptions();
  o.decoding.top_k = 5;
  fails(o, "--temperature");
  o = GenerateOptions();
  o.positions = "2";
  o.num = 2;
  fails(o, "greedy decoding of fixed --positions gives one variant");
  o.decoding.beam = 1;
  fails(o, "--beam 2 or more");
  // One position and 20 residues: 19 variants at most, so 25 run out of attempts.
  o = sampling(25);
  o.positions = "2";
  fails(o, "distinct variant(s) of seed '" + s.seeds[0].id + "'");
}

struct FileSetup : GenSetup {
  fs::path checkpoint, fasta = scratch / "seeds.fasta";
  FileSetup() {
    auto w = checkpoints::CheckpointWriter::begin(config.run.dir, 3, {/*background=*/false});
    w.write_tensors("model.safetensors", weights::parameters_of(model));
    w.write_json("state.json", {{"step", 3}});
    w.write_text("config.yaml", trainer::to_yaml(config));
    checkpoint = w.commit();
    std::ofstream f(fasta);
    for (std::size_t i = 0; i < 3; ++i) {
      f << '>' << seeds[i].id << " some description\n";
      for (const uint8_t t : seeds[i].residues) f << data::kResidues[t - data::kFirstResidue];
      f << '\n';
    }
  }
  GenerateOptions options(const std::string& output) const {
    auto o = sampling(4);
    o.source = checkpoint;
    o.fasta = fasta;
    o.output = scratch / output;
    return o;
  }
};

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream f(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(f, l);) out.push_back(l);
  return out;
}

TEST(GenerateFasta, WritesExactlyNumRecordsPerSeedInOrder) {
  FileSetup s;
  const auto r = generate_fasta(s.options("out.fasta"));
  EXPECT_EQ(r.variants, 12);
  const auto lines = lines_of(s.scratch / "out.fasta");
  ASSERT_EQ(lines.size(), 24u);
  const auto direct = generate_variants(s.model, {s.seeds[0], s.seeds[1], s.seeds[2]}, s.options("x"), -1);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t k = 0; k < 4; ++k) {
      const auto& header = lines[2 * (4 * i + k)];
      EXPECT_EQ(header.rfind(">" + s.seeds[i].id + "_var" + std::to_string(k + 1) + " seed=" + s.seeds[i].id + " mutations=", 0), 0u)
          << header;
      EXPECT_NE(header.find(" sum_logp="), std::string::npos);
      EXPECT_NE(header.find(" mean_logp="), std::string::npos);
      EXPECT_NE(header.find(" identity=0."), std::string::npos);
      EXPECT_NE(header.find("mutations=" + mutation_list(s.seeds[i].residues, direct[i][k].residues) + " "), std::string::npos);
      EXPECT_EQ(testing::residue_ids(lines[2 * (4 * i + k) + 1]), direct[i][k].residues);
    }
  // An existing output is refused without --overwrite, replaced with it.
  EXPECT_NE(error_of([&] { generate_fasta(s.options("out.fasta")); }).find("already exists"), std::string::npos);
  auto o = s.options("out.fasta");
  o.overwrite = true;
  o.seed = 99;
  generate_fasta(o);
  EXPECT_NE(lines_of(s.scratch / "out.fasta"), lines);
}

TEST(GenerateFasta, EncoderOnlyExportEmptyFastaAndUnknownTaskTokenAreRefused) {
  FileSetup s;
  weights::ExportOptions e;
  e.checkpoint = s.checkpoint;
  e.output = s.scratch / "hf-encoder";
  e.encoder_only = true;
  weights::export_checkpoint(e);
  auto o = s.options("a.fasta");
  o.source = e.output;
  EXPECT_NE(error_of([&] { generate_fasta(o); }).find("encoder-only model cannot generate"), std::string::npos);
  EXPECT_FALSE(fs::exists(o.output));

  e.output = s.scratch / "hf-full";
  e.encoder_only = false;
  weights::export_checkpoint(e);
  o.source = e.output;
  generate_fasta(o);  // a full export generates
  EXPECT_EQ(lines_of(o.output).size(), 24u);

  testing::write_bytes(s.scratch / "empty.fasta", "");
  o = s.options("b.fasta");
  o.fasta = s.scratch / "empty.fasta";
  EXPECT_NE(error_of([&] { generate_fasta(o); }).find("no protein sequences"), std::string::npos);
  o = s.options("c.fasta");
  o.task_token = "[S2S]";
  EXPECT_NE(error_of([&] { generate_fasta(o); }).find("--task-token"), std::string::npos);
  EXPECT_FALSE(fs::exists(o.output));
}

}  // namespace
}  // namespace ankh::generation
