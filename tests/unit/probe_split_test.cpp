// The protein split of a probe task (determinism, caps, counts, FASTA and BLAST database
// routes), the composition and dipeptide baselines, the source parser and feature caching.
#include "tests/unit/probe_test_util.h"

// ---- the protein split -------------------------------------------------------------------------

namespace {

// 40 labelled proteins P000..P039 with `>ID|GO:...` headers, and U1 (unlabelled), L1 (labelled,
// 300 residues) and a second P005 (a duplicate).
std::string split_fasta() {
  std::string fasta;
  for (int i = 0; i < 40; ++i) {
    fasta += ">" + pid(i) + "|GO:0000001,GO:0000002 text\n" + protein(50 + i, 20 + i) + "\n";
    if (i == 10) fasta += ">U1\n" + protein(1, 30) + "\n";
    if (i == 20) fasta += ">L1|GO:0000001\n" + protein(2, 300) + "\n";
  }
  return fasta + ">P005 second record\n" + protein(3, 25) + "\n";
}

bool labelled(const std::string& id) { return id[0] == 'P' || id == "L1"; }

}  // namespace

TEST(ProteinSplit, ReadsCountsAndSplitsDeterministically) {
  ScratchDir dir;
  write_text(dir / "p.fasta", split_fasta());
  const ProbeTask task = fasta_task(dir / "p.fasta");
  const ProteinSplit split = read_protein_split(task, labelled, dir / "work");
  EXPECT_EQ(split.counts.read, 43);
  EXPECT_EQ(split.counts.unlabelled, 1);
  EXPECT_EQ(split.counts.too_long, 1);
  EXPECT_EQ(split.counts.duplicates, 1);
  EXPECT_EQ(split.lookup.size() + split.query.size(), 40u);
  EXPECT_EQ(split.lookup_candidates, static_cast<int64_t>(split.lookup.size()));
  EXPECT_EQ(split.query_candidates, static_cast<int64_t>(split.query.size()));
  EXPECT_GE(split.query.size(), 5u);  // about 30 % of 40
  EXPECT_GE(split.lookup.size(), 15u);
  EXPECT_FALSE(fs::exists(dir / "work" / "proteins.fasta"));  // a FASTA task exports nothing

  // Ids up to the first '|', in file order; the part is in_query_set's; P005 is its first record.
  std::vector<std::string> all;
  for (int i = 0; i < 40; ++i) all.push_back(pid(i));
  EXPECT_TRUE(is_subsequence(ids_of(split.lookup), all));
  EXPECT_TRUE(is_subsequence(ids_of(split.query), all));
  for (const auto& p : split.lookup) EXPECT_FALSE(in_query_set(p.id, task.query_fraction, 0)) << p.id;
  for (const auto& p : split.query) EXPECT_TRUE(in_query_set(p.id, task.query_fraction, 0)) << p.id;
  for (const auto* part : {&split.lookup, &split.query})
    for (const auto& p : *part)
      if (p.id == "P005") {
        EXPECT_EQ(p.sequence, protein(55, 25));
      }

  // The same file gives the same sets.
  const ProteinSplit again = read_protein_split(task, labelled, dir / "work");
  EXPECT_EQ(ids_of(again.lookup), ids_of(split.lookup));
  EXPECT_EQ(ids_of(again.query), ids_of(split.query));
  for (std::size_t i = 0; i < split.lookup.size(); ++i) EXPECT_EQ(again.lookup[i].sequence, split.lookup[i].sequence);

  // max_length: a limit of 300 keeps L1.
  const ProteinSplit longer = read_protein_split(fasta_task(dir / "p.fasta", 300), labelled, dir / "work");
  EXPECT_EQ(longer.counts.too_long, 0);
  EXPECT_EQ(longer.lookup.size() + longer.query.size(), 41u);
}

TEST(ProteinSplit, CapsKeepASeededSubsetInFileOrder) {
  ScratchDir dir;
  write_text(dir / "p.fasta", split_fasta());
  const ProbeTask all_task = fasta_task(dir / "p.fasta");
  const ProteinSplit all = read_protein_split(all_task, labelled, dir / "work");

  ProbeTask capped_task = all_task;
  capped_task.max_lookup = 7;
  capped_task.max_query = 2;
  const ProteinSplit capped = read_protein_split(capped_task, labelled, dir / "work");
  ASSERT_EQ(capped.lookup.size(), 7u);
  ASSERT_EQ(capped.query.size(), 2u);
  EXPECT_EQ(capped.lookup_candidates, static_cast<int64_t>(all.lookup.size()));
  EXPECT_EQ(capped.query_candidates, static_cast<int64_t>(all.query.size()));
  EXPECT_TRUE(is_subsequence(ids_of(capped.lookup), ids_of(all.lookup)));  // a subset, in file order
  EXPECT_TRUE(is_subsequence(ids_of(capped.query), ids_of(all.query)));
  const ProteinSplit capped_again = read_protein_split(capped_task, labelled, dir / "work");
  EXPECT_EQ(ids_of(capped_again.lookup), ids_of(capped.lookup));
  EXPECT_EQ(ids_of(capped_again.query), ids_of(capped.query));

  // A cap above the candidates keeps them all.
  ProbeTask loose = all_task;
  loose.max_lookup = 1000;
  EXPECT_EQ(ids_of(read_protein_split(loose, labelled, dir / "work").lookup), ids_of(all.lookup));

  // Another seed: another split and another capped subset.
  ProbeTask reseeded = capped_task;
  reseeded.seed = 12345;
  const ProteinSplit other = read_protein_split(reseeded, labelled, dir / "work");
  ASSERT_EQ(other.lookup.size(), 7u);
  EXPECT_NE(ids_of(other.lookup), ids_of(capped.lookup));
}

TEST(ProteinSplit, AnEmptyPartIsAnError) {
  ScratchDir dir;
  write_text(dir / "p.fasta", split_fasta());
  const ProbeTask task = fasta_task(dir / "p.fasta");
  const auto none = [](const std::string&) { return false; };
  std::string e = error_of<InputError>([&] { read_protein_split(task, none, dir.path()); });
  EXPECT_TRUE(contains(e, "the split leaves no lookup proteins (43 read, 43 unlabelled")) << e;
  EXPECT_TRUE(contains(e, task.file.string())) << e;

  // A single labelled protein lands in one part only.
  const auto one = [](const std::string& id) { return id == "P000"; };
  e = error_of<InputError>([&] { read_protein_split(task, one, dir.path()); });
  EXPECT_TRUE(contains(e, "the split leaves no")) << e;

  write_text(dir / "bad.fasta", ">P1\nACDE1FG\n");
  e = error_of<InputError>([&] { read_protein_split(fasta_task(dir / "bad.fasta"), labelled, dir.path()); });
  EXPECT_TRUE(contains(e, "bad.fasta:2")) << e;
}

TEST(ProteinSplit, ABlastDatabaseReadsTheSameProteinsAsItsFasta) {
  if (!have_blast()) GTEST_SKIP() << "NCBI BLAST+ is not installed (apt-get install ncbi-blast+; scripts/setup.sh)";
  ScratchDir dir;
  // The FASTA as makeblastdb wants it (upper case, no duplicates): the database keeps every record.
  write_text(dir / "db dir" / "p.fasta", split_fasta());
  make_blast_db(dir / "db dir" / "p.fasta", dir / "db dir" / "proteins");
  ProbeTask db_task = fasta_task(dir / "db dir" / "p.fasta");
  db_task.fasta.clear();
  db_task.blastdb = (dir / "db dir" / "proteins").string();
  db_task.max_lookup = 10;
  ProbeTask fasta = fasta_task(dir / "db dir" / "p.fasta");
  fasta.max_lookup = 10;

  const ProteinSplit from_db = read_protein_split(db_task, labelled, dir / "work dir");
  const ProteinSplit from_fasta = read_protein_split(fasta, labelled, dir / "work dir");
  EXPECT_TRUE(fs::exists(dir / "work dir" / "proteins.fasta"));
  EXPECT_EQ(from_db.counts.read, from_fasta.counts.read);
  EXPECT_EQ(from_db.counts.unlabelled, from_fasta.counts.unlabelled);
  EXPECT_EQ(from_db.counts.too_long, from_fasta.counts.too_long);
  EXPECT_EQ(from_db.counts.duplicates, from_fasta.counts.duplicates);
  EXPECT_EQ(ids_of(from_db.lookup), ids_of(from_fasta.lookup));
  EXPECT_EQ(ids_of(from_db.query), ids_of(from_fasta.query));
  for (std::size_t i = 0; i < from_db.lookup.size(); ++i)
    EXPECT_EQ(from_db.lookup[i].sequence, from_fasta.lookup[i].sequence);
  for (std::size_t i = 0; i < from_db.query.size(); ++i)
    EXPECT_EQ(from_db.query[i].sequence, from_fasta.query[i].sequence);
}

// ---- features and sources ----------------------------------------------------------------------

TEST(ProbeFeatures, CompositionAndDipeptideFrequencies) {
  // Columns follow ACDEFGHIKLMNPQRSTVWY: A 0, C 1, D 2, W 18, Y 19.
  const std::vector<Protein> proteins = {{"a", "AACW"}, {"b", "AXBA"}, {"c", ""}, {"d", "Y"}, {"e", "ACAC"}};
  const torch::Tensor c = composition_features(proteins);
  ASSERT_EQ(c.sizes(), (std::vector<int64_t>{5, 20}));
  EXPECT_EQ(c.dtype(), torch::kFloat32);
  auto expected = torch::zeros({5, 20});
  expected[0][0] = 0.5;
  expected[0][1] = 0.25;
  expected[0][18] = 0.25;
  expected[1][0] = 0.5;  // X and B count in no column (over all 4 residues)
  expected[3][19] = 1.0;
  expected[4][0] = 0.5;
  expected[4][1] = 0.5;
  EXPECT_TRUE(torch::equal(c, expected)) << c;
  for (const int64_t row : {0, 3, 4}) EXPECT_FLOAT_EQ(c[row].sum().item<float>(), 1.0F);

  const torch::Tensor d = dipeptide_features(proteins);
  ASSERT_EQ(d.sizes(), (std::vector<int64_t>{5, 400}));
  auto pairs = torch::zeros({5, 400});
  pairs[0][0 * 20 + 0] = 1.0 / 3;  // AA, AC, CW
  pairs[0][0 * 20 + 1] = 1.0 / 3;
  pairs[0][1 * 20 + 18] = 1.0 / 3;
  // AXBA: AX, XB, BA hold a non-standard residue: nothing counts.
  pairs[4][0 * 20 + 1] = 2.0 / 3;  // AC, CA, AC
  pairs[4][1 * 20 + 0] = 1.0 / 3;
  EXPECT_TRUE(torch::allclose(d, pairs, 0, 1e-7)) << d.nonzero();
  EXPECT_NEAR(d[0].sum().item<float>(), 1.0F, 1e-6);
  EXPECT_NEAR(d[4].sum().item<float>(), 1.0F, 1e-6);
}

TEST(ProbeSource, ParsesBaselinesAndModelDirectories) {
  ScratchDir dir;
  EXPECT_EQ(parse_probe_source("baseline:composition").kind, SourceKind::Composition);
  EXPECT_EQ(parse_probe_source("baseline:dipeptide").kind, SourceKind::Dipeptide);
  write_text(dir / "tiny.yaml", tiny_model_yaml());
  const ProbeSource random = parse_probe_source("baseline:random-init:" + (dir / "tiny.yaml").string());
  EXPECT_EQ(random.kind, SourceKind::RandomInit);
  EXPECT_EQ(random.path, dir / "tiny.yaml");
  EXPECT_EQ(random.text, "baseline:random-init:" + (dir / "tiny.yaml").string());
  const ProbeSource model = parse_probe_source(dir.path().string());
  EXPECT_EQ(model.kind, SourceKind::Model);
  EXPECT_EQ(model.path, dir.path());

  std::string e = error_of<UsageError>([] { parse_probe_source("baseline:compostion"); });
  EXPECT_TRUE(contains(e, "unknown baseline 'compostion'")) << e;
  e = error_of<UsageError>([&] { parse_probe_source("baseline:random-init:" + (dir / "none.yaml").string()); });
  EXPECT_TRUE(contains(e, "no such config file")) << e;
  e = error_of<UsageError>([&] { parse_probe_source((dir / "no-such-run").string()); });
  EXPECT_TRUE(contains(e, "no such model directory")) << e;
}

TEST(ProbeFeatures, RandomInitFeaturesAreCachedPerModelDtypeAndProteins) {
  ScratchDir dir;
  write_text(dir / "tiny.yaml", tiny_model_yaml());
  const ProbeSource source = parse_probe_source("baseline:random-init:" + (dir / "tiny.yaml").string());
  std::vector<Protein> proteins = {{"a", protein(1, 30)}, {"b", protein(2, 12)}, {"c", protein(3, 50)}};
  const fs::path cache = dir / "out" / "features.safetensors";
  FeatureOptions options;

  const Features first = protein_features(source, proteins, options, cache);
  EXPECT_FALSE(first.cached);
  ASSERT_EQ(first.values.sizes(), (std::vector<int64_t>{3, 32}));
  EXPECT_EQ(first.values.dtype(), torch::kFloat32);
  EXPECT_TRUE(contains(first.description, "seed 7")) << first.description;
  EXPECT_TRUE(fs::exists(cache));
  // Each protein's features do not depend on the others it is batched with.
  const Features alone = protein_features(source, {proteins[1]}, options, {});
  EXPECT_TRUE(torch::allclose(alone.values[0], first.values[1], 1e-5, 1e-5));

  const Features second = protein_features(source, proteins, options, cache);
  EXPECT_TRUE(second.cached);
  EXPECT_EQ(second.seconds, 0);
  EXPECT_TRUE(torch::equal(second.values, first.values));
  EXPECT_EQ(second.description, first.description);

  proteins[2].sequence[0] = proteins[2].sequence[0] == 'A' ? 'C' : 'A';  // other proteins: recomputed
  EXPECT_FALSE(protein_features(source, proteins, options, cache).cached);
  EXPECT_TRUE(protein_features(source, proteins, options, cache).cached);

  options.dtype = torch::kBFloat16;  // another compute dtype: recomputed, not the fp32 features
  const Features bf16 = protein_features(source, proteins, options, cache);
  EXPECT_FALSE(bf16.cached);
  EXPECT_EQ(bf16.values.dtype(), torch::kFloat32);
}
