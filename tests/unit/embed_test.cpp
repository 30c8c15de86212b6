// `ankh embed`: the mean is over residues only (</s> and padding excluded) and equals what each
// protein encoded alone gives; results do not depend on the batching; the HDF5 file keeps the
// FASTA ids and order; bad input fails clearly with no file left under the output's name.
#include <gtest/gtest.h>

#include <hdf5.h>

#include <fstream>
#include <set>

#include <torch/torch.h>

#include "checkpoints/checkpoint_dir.h"
#include "core/error.h"
#include "core/files.h"
#include "data/hdf5_util.h"
#include "data/vocab.h"
#include "tests/support/test_support.h"
#include "tests/unit/data_test_util.h"
#include "trainer/weights/embedder.h"
#include "trainer/weights/exporter.h"
#include "trainer/weights/model_io.h"
#include "trainer/run_config.h"

namespace ankh::weights {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;
using namespace ankh::trainer;  // RunConfig: the configs these tests start from
using testing::error_of;

RunConfig tiny_config(const fs::path& run_dir) { return testing::tiny_run_config(run_dir, {"model.decoder_layers=1"}); }

model::T5Model random_model(const RunConfig& config) { return testing::perturbed_model(config.model, 11, 0.05); }

struct Embedded {
  std::map<int64_t, torch::Tensor> mean, rows;
};
Embedded run(model::T5Model& m, const std::vector<std::vector<uint8_t>>& seqs, int64_t batch_tokens, bool per_residue = true) {
  Embedded e;
  EmbedBatchOptions o;
  o.batch_tokens = batch_tokens;
  o.per_residue = per_residue;
  embed_sequences(m, seqs, o, [&](int64_t i, const torch::Tensor& mean, const torch::Tensor& rows) {
    EXPECT_EQ(e.mean.count(i), 0u) << "protein " << i << " handed out twice";
    e.mean[i] = mean.clone();
    if (rows.defined()) e.rows[i] = rows.clone();
  });
  return e;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

// --- reading the HDF5 file back with the C API -------------------------------------------------

template <typename T>
std::vector<T> read_dataset(hid_t file, const char* name, hid_t memory_type) {
  data::h5::Handle set = data::h5::dataset(H5Dopen2(file, name, H5P_DEFAULT));
  if (!set.valid()) throw std::runtime_error(std::string("no dataset ") + name);
  data::h5::Handle space = data::h5::space(H5Dget_space(set));
  std::vector<T> out(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
  if (H5Dread(set, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) throw std::runtime_error(name);
  return out;
}

std::vector<std::string> read_ids(hid_t file) {
  data::h5::Handle set = data::h5::dataset(H5Dopen2(file, "ids", H5P_DEFAULT));
  data::h5::Handle type = data::h5::type(H5Dget_type(set));
  EXPECT_GT(H5Tis_variable_str(type), 0);
  EXPECT_EQ(H5Tget_cset(type), H5T_CSET_UTF8);
  data::h5::Handle space = data::h5::space(H5Dget_space(set));
  std::vector<char*> raw(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
  H5Dread(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data());
  std::vector<std::string> ids(raw.begin(), raw.end());
  H5Dvlen_reclaim(type, space, H5P_DEFAULT, raw.data());
  return ids;
}

struct File {
  std::vector<std::string> ids;
  std::vector<int64_t> lengths, fasta_lengths, offsets;
  torch::Tensor mean, residues;
  int64_t step = 0, d_model = 0, truncated = 0;
  std::string format, source;
  bool has_residues = false;
};

std::string text_attribute(hid_t file, const char* name) {
  data::h5::Handle a = data::h5::attribute(H5Aopen(file, name, H5P_DEFAULT));
  data::h5::Handle type = data::h5::type(H5Aget_type(a));
  char* p = nullptr;
  H5Aread(a, type, &p);
  std::string s = p ? p : "";
  H5free_memory(p);
  return s;
}

File read_file(const fs::path& path) {
  std::lock_guard<std::recursive_mutex> guard(data::h5::lock());
  data::h5::Handle f = data::h5::file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!f.valid()) throw std::runtime_error("cannot open " + path.string());
  File out;
  out.ids = read_ids(f);
  out.lengths = read_dataset<int64_t>(f, "lengths", H5T_NATIVE_INT64);
  out.fasta_lengths = read_dataset<int64_t>(f, "fasta_lengths", H5T_NATIVE_INT64);
  data::h5::read_attribute(f, "step", out.step);
  data::h5::read_attribute(f, "d_model", out.d_model);
  data::h5::read_attribute(f, "truncated", out.truncated);
  out.format = text_attribute(f, "format");
  out.source = text_attribute(f, "source");
  const auto n = static_cast<int64_t>(out.ids.size());
  out.mean = torch::tensor(read_dataset<float>(f, "mean", H5T_NATIVE_FLOAT)).reshape({n, out.d_model});
  out.has_residues = H5Lexists(f, "residues", H5P_DEFAULT) > 0;
  if (out.has_residues) {
    out.offsets = read_dataset<int64_t>(f, "offsets", H5T_NATIVE_INT64);
    out.residues = torch::tensor(read_dataset<float>(f, "residues", H5T_NATIVE_FLOAT)).reshape({-1, out.d_model});
  }
  return out;
}

// Files in `dir` whose name starts with `stem` (the output and any temporary of it).
std::vector<std::string> files_like(const fs::path& dir, const std::string& stem) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(stem, 0) == 0) out.push_back(e.path().filename().string());
  return out;
}


// --- tests --------------------------------------------------------------------------------------

TEST(EmbedPlan, BatchesKeepTheBudgetAndCoverEveryProteinOnceLongestFirst) {
  const std::vector<int64_t> lengths = {5, 40, 3, 3, 17, 100, 8, 8, 8, 1};
  const auto batches = plan_batches(lengths, 40);
  std::set<int64_t> seen;
  int64_t previous = 1 << 30;
  for (const auto& b : batches) {
    ASSERT_FALSE(b.empty());
    const int64_t longest = lengths[static_cast<std::size_t>(b.front())] + 1;
    if (b.size() > 1) {
      EXPECT_LE(static_cast<int64_t>(b.size()) * longest, 40);
    }
    for (const int64_t i : b) {
      EXPECT_TRUE(seen.insert(i).second) << i;
      EXPECT_LE(lengths[static_cast<std::size_t>(i)], previous);
      previous = lengths[static_cast<std::size_t>(i)];
    }
  }
  EXPECT_EQ(seen.size(), lengths.size());
  EXPECT_EQ(batches.front(), std::vector<int64_t>{5});  // over the budget: alone
  EXPECT_EQ(plan_batches(lengths, 1).size(), lengths.size());
  EXPECT_EQ(plan_batches(lengths, 1 << 20).size(), 1u);
}

TEST(Embed, MeanIsOverResiduesOnlyAndEqualsEachProteinEncodedAlone) {
  ScratchDir scratch;
  const RunConfig config = tiny_config(scratch / "run");
  model::T5Model m = random_model(config);
  const auto proteins = testing::random_proteins(12, 3, 1, 50);
  std::vector<std::vector<uint8_t>> seqs;
  for (const auto& p : proteins) seqs.push_back(testing::residue_ids(p.sequence));
  const Embedded e = run(m, seqs, 200);
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    std::vector<int64_t> ids(seqs[i].begin(), seqs[i].end());
    ids.push_back(data::kEos);
    const auto l = static_cast<int64_t>(seqs[i].size());
    const torch::Tensor alone = m->encode(torch::tensor(ids).unsqueeze(0), torch::Tensor())[0];  // [L+1, d]
    const auto index = static_cast<int64_t>(i);
    EXPECT_LT(max_diff(e.mean.at(index), alone.narrow(0, 0, l).mean(0)), 1e-5) << i;
    EXPECT_GT(max_diff(e.mean.at(index), alone.mean(0)), 1e-4) << i << ": </s> must not be in the mean";
    EXPECT_EQ(e.rows.at(index).sizes(), (std::vector<int64_t>{l, 32}));
    EXPECT_LT(max_diff(e.rows.at(index), alone.narrow(0, 0, l)), 1e-5) << i;
    EXPECT_LT(max_diff(e.mean.at(index), e.rows.at(index).mean(0)), 1e-6) << i;
  }
}

TEST(Embed, ResultsDoNotDependOnTheBatching) {
  ScratchDir scratch;
  const RunConfig config = tiny_config(scratch / "run");
  model::T5Model m = random_model(config);
  const auto proteins = testing::random_proteins(40, 4, 1, 120);
  std::vector<std::vector<uint8_t>> seqs;
  std::vector<int64_t> lengths;
  for (const auto& p : proteins) {
    seqs.push_back(testing::residue_ids(p.sequence));
    lengths.push_back(static_cast<int64_t>(p.sequence.size()));
  }
  ASSERT_EQ(plan_batches(lengths, 1).size(), 40u);
  ASSERT_LT(plan_batches(lengths, 300).size(), 40u);
  ASSERT_EQ(plan_batches(lengths, 1 << 20).size(), 1u);
  const Embedded alone = run(m, seqs, 1), some = run(m, seqs, 300), all = run(m, seqs, 1 << 20);
  double worst = 0;
  for (int64_t i = 0; i < 40; ++i) {
    worst = std::max({worst, max_diff(alone.mean.at(i), some.mean.at(i)), max_diff(alone.mean.at(i), all.mean.at(i)),
                      max_diff(alone.rows.at(i), all.rows.at(i))});
  }
  EXPECT_LT(worst, 1e-5);
  const Embedded means_only = run(m, seqs, 300, /*per_residue=*/false);
  EXPECT_TRUE(means_only.rows.empty());
  for (int64_t i = 0; i < 40; ++i) EXPECT_TRUE(torch::equal(means_only.mean.at(i), some.mean.at(i))) << i;
}

struct EmbedSetup {
  ScratchDir scratch{"ankh-embed"};
  RunConfig config = tiny_config(scratch / "run");
  model::T5Model model = random_model(config);
  fs::path checkpoint;
  std::vector<testing::Protein> proteins = testing::random_proteins(25, 9, 1, 90);
  fs::path fasta = scratch / "proteins.fasta";

  EmbedSetup() {
    auto w = checkpoints::CheckpointWriter::begin(config.run.dir, 12, {/*background=*/false});
    w.write_tensors("model.safetensors", parameters_of(model));
    w.write_json("state.json", {{"step", 12}});
    w.write_text("config.yaml", to_yaml(config));
    checkpoint = w.commit();
    testing::write_bytes(fasta, testing::fasta_text(proteins, 25));
  }
  EmbedOptions options(const std::string& output) const {
    EmbedOptions o;
    o.source = checkpoint;
    o.fasta = fasta;
    o.output = scratch / output;
    o.batch.batch_tokens = 256;
    return o;
  }
};

TEST(EmbedFasta, FileKeepsFastaIdsAndOrderWithMeansAndResidues) {
  EmbedSetup s;
  auto o = s.options("out.h5");
  o.batch.per_residue = true;
  const auto r = embed_fasta(o);
  EXPECT_EQ(r.proteins, 25);
  EXPECT_EQ(r.step, 12);
  EXPECT_EQ(files_like(s.scratch.path(), "out.h5"), std::vector<std::string>{"out.h5"});  // no temporary left

  const File f = read_file(s.scratch / "out.h5");
  EXPECT_EQ(f.format, "ankh-embeddings");
  EXPECT_EQ(f.source, s.checkpoint.string());
  EXPECT_EQ(f.step, 12);
  EXPECT_EQ(f.d_model, 32);
  ASSERT_EQ(f.ids.size(), s.proteins.size());
  std::vector<std::vector<uint8_t>> seqs;
  int64_t total = 0;
  for (std::size_t i = 0; i < s.proteins.size(); ++i) {
    EXPECT_EQ(f.ids[i], s.proteins[i].id);  // FASTA order, first word of the header
    EXPECT_EQ(f.lengths[i], static_cast<int64_t>(s.proteins[i].sequence.size()));
    EXPECT_EQ(f.fasta_lengths[i], f.lengths[i]);
    EXPECT_EQ(f.offsets[i], total);
    total += f.lengths[i];
    seqs.push_back(testing::residue_ids(s.proteins[i].sequence));
  }
  EXPECT_EQ(f.offsets.back(), total);
  EXPECT_EQ(f.mean.sizes(), (std::vector<int64_t>{25, 32}));
  EXPECT_EQ(f.residues.sizes(), (std::vector<int64_t>{total, 32}));
  const Embedded direct = run(s.model, seqs, 1);
  for (int64_t i = 0; i < 25; ++i) {
    const torch::Tensor rows = f.residues.narrow(0, f.offsets[static_cast<std::size_t>(i)], f.lengths[static_cast<std::size_t>(i)]);
    EXPECT_LT(max_diff(f.mean[i], rows.mean(0)), 1e-6) << i;
    EXPECT_LT(max_diff(f.mean[i], direct.mean.at(i)), 1e-5) << i;
    EXPECT_LT(max_diff(rows, direct.rows.at(i)), 1e-5) << i;
  }

  // Means only: no /residues, same means.
  const auto lean = embed_fasta(s.options("lean.h5"));
  const File g = read_file(s.scratch / "lean.h5");
  EXPECT_FALSE(g.has_residues);
  EXPECT_LT(max_diff(g.mean, f.mean), 1e-5);
  EXPECT_EQ(lean.proteins, 25);
}

TEST(EmbedFasta, HuggingFaceDirectoryGivesTheSameEmbeddingsAsTheCheckpoint) {
  EmbedSetup s;
  ExportOptions e;
  e.checkpoint = s.checkpoint;
  e.output = s.scratch / "hf-encoder";
  e.encoder_only = true;
  export_checkpoint(e);
  embed_fasta(s.options("ckpt.h5"));
  auto o = s.options("hf.h5");
  o.source = e.output;
  const auto r = embed_fasta(o);
  EXPECT_EQ(r.step, -1);
  EXPECT_TRUE(torch::equal(read_file(s.scratch / "hf.h5").mean, read_file(s.scratch / "ckpt.h5").mean));

  auto bf16 = s.options("bf16.h5");
  bf16.dtype = torch::kBFloat16;
  embed_fasta(bf16);
  const torch::Tensor a = read_file(s.scratch / "bf16.h5").mean, b = read_file(s.scratch / "ckpt.h5").mean;
  EXPECT_FALSE(torch::equal(a, b));
  EXPECT_LT(max_diff(a, b), 0.05 * b.abs().max().item<double>());
}

TEST(EmbedFasta, LongProteinsAreTruncatedCountedAndKeepTheirFastaLength) {
  EmbedSetup s;
  auto o = s.options("cut.h5");
  o.max_length = 20;
  o.batch.per_residue = true;
  const auto r = embed_fasta(o);
  int64_t longer = 0;
  for (const auto& p : s.proteins) longer += p.sequence.size() > 20 ? 1 : 0;
  ASSERT_GT(longer, 0);
  EXPECT_EQ(r.truncated, longer);
  const File f = read_file(s.scratch / "cut.h5");
  EXPECT_EQ(f.truncated, longer);
  for (std::size_t i = 0; i < s.proteins.size(); ++i) {
    const auto full = static_cast<int64_t>(s.proteins[i].sequence.size());
    EXPECT_EQ(f.fasta_lengths[i], full);
    EXPECT_EQ(f.lengths[i], std::min<int64_t>(full, 20));
    if (full > 20) {  // the embedding of the first 20 residues, as if the FASTA had only those
      const Embedded first = run(s.model, {testing::residue_ids(s.proteins[i].sequence.substr(0, 20))}, 1);
      EXPECT_LT(max_diff(f.mean[static_cast<int64_t>(i)], first.mean.at(0)), 1e-5) << i;
    }
  }
}

TEST(EmbedFasta, BadInputsFailClearlyAndLeaveNoFile) {
  EmbedSetup s;
  auto refused = [&](EmbedOptions o, const std::string& expected) {
    const std::string stem = o.output.filename().string();
    const std::string e = error_of([&] { embed_fasta(o); });
    EXPECT_NE(e.find(expected), std::string::npos) << e;
    EXPECT_TRUE(files_like(s.scratch.path(), stem).empty()) << stem;
  };
  // The rare letters X B Z U O are Ankh tokens; J is not.
  testing::write_bytes(s.scratch / "rare.fasta", ">r1\nMKXBZUOA\n>r2 x\nacdef*\n");
  auto rare = s.options("rare.h5");
  rare.fasta = s.scratch / "rare.fasta";
  EXPECT_EQ(embed_fasta(rare).proteins, 2);
  testing::write_bytes(s.scratch / "bad.fasta", ">ok\nMKV\n>bad one\nMKV\nMKJV\n");
  auto bad = s.options("bad.h5");
  bad.fasta = s.scratch / "bad.fasta";
  refused(bad, (s.scratch / "bad.fasta").string() + ":5: invalid character 'J' in the sequence of record 'bad'");
  bad.on_invalid = data::InvalidPolicy::Unk;
  EXPECT_EQ(embed_fasta(bad).proteins, 2);

  auto missing = s.options("missing.h5");
  missing.source = s.scratch / "no-such-model";
  refused(missing, "no such model directory");
  auto not_fasta = s.options("nofasta.h5");
  not_fasta.fasta = s.scratch / "none.fasta";
  refused(not_fasta, "none.fasta: no such FASTA file");
  testing::write_bytes(s.scratch / "empty.fasta", "\n\n");
  auto empty = s.options("empty.h5");
  empty.fasta = s.scratch / "empty.fasta";
  refused(empty, "no protein sequences");
  fs::copy(s.checkpoint, s.scratch / "run/checkpoints/step-00000013.tmp", fs::copy_options::recursive);
  auto uncommitted = s.options("uncommitted.h5");
  uncommitted.source = s.scratch / "run/checkpoints/step-00000013.tmp";
  refused(uncommitted, "never committed");

  // An existing output is kept unless --overwrite; with it, replaced only when complete.
  testing::write_text(s.scratch / "kept.h5", "precious");
  auto kept = s.options("kept.h5");
  const std::string e = error_of([&] { embed_fasta(kept); });
  EXPECT_NE(e.find("already exists"), std::string::npos) << e;
  EXPECT_EQ(core::read_file(s.scratch / "kept.h5"), "precious");
  kept.source = s.scratch / "no-such-model";
  kept.overwrite = true;
  EXPECT_THROW(embed_fasta(kept), core::Error);
  EXPECT_EQ(core::read_file(s.scratch / "kept.h5"), "precious");
  kept.source = s.checkpoint;
  embed_fasta(kept);
  EXPECT_EQ(read_file(s.scratch / "kept.h5").ids.size(), 25u);
}

}  // namespace
}  // namespace ankh::weights
