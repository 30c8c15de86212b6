// run_probe end to end for both kinds of probe, Fmax recomputed by tests/probe/recompute_fmax.py
// from predictions.tsv and queries.txt alone.
#include "tests/unit/probe_test_util.h"

// ---- run_probe end to end ----------------------------------------------------------------------

namespace {

nlohmann::json recompute_fmax(const fs::path& out, const ProbeTask& task) {
  const auto script = ankh::testing::source_dir() / "tests" / "probe" / "recompute_fmax.py";
  const auto q = [](const fs::path& p) { return "'" + p.string() + "'"; };
  const auto r = ankh::testing::run_command("/usr/bin/python3 " + q(script) + " " + q(out / "predictions.tsv") + " " +
                                            q(out / "queries.txt") + " " + q(task.annotations) + " " + q(task.go_graph));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const auto json = nlohmann::json::parse(r.output, nullptr, false);
  EXPECT_FALSE(json.is_discarded()) << r.output;
  return json.is_discarded() ? nlohmann::json{{"fmax", -1}, {"threshold", -1}, {"coverage", -1}, {"queries", -1}}
                             : json;
}

// Checks what a go_transfer run wrote, and its Fmax against the independent recomputation.
void check_go_outputs(const ProbeRunOptions& o, const ProbeRunResult& r, bool blast) {
  const nlohmann::json& results = r.results;
  EXPECT_EQ(read_probe_results(o.output / "results.json"), results);
  ASSERT_TRUE(results.contains("source"));
  ASSERT_TRUE(results.contains("naive"));
  EXPECT_EQ(results.contains("blast"), blast);
  ASSERT_TRUE(results.contains("probe"));
  for (const char* method : {"source", "naive"})
    for (const char* key : {"fmax", "threshold", "precision", "recall", "coverage", "queries"})
      EXPECT_TRUE(results[method].contains(key)) << method << " " << key;

  const auto& probe = results["probe"];
  EXPECT_EQ(probe["task"], o.task.name);
  EXPECT_EQ(probe["kind"], "go_transfer");
  EXPECT_EQ(probe["source"], o.source.text);
  EXPECT_EQ(probe["proteins_read"], 76);
  EXPECT_EQ(probe["left_out"]["unlabelled"], 2);  // U1, R1 (only the root)
  EXPECT_EQ(probe["left_out"]["too_long"], 1);    // L1
  EXPECT_EQ(probe["left_out"]["duplicates"], 1);  // P005's second record
  if (o.task.max_lookup == 0 && o.task.max_query == 0) {
    EXPECT_EQ(probe["lookup"].get<int64_t>() + probe["query"].get<int64_t>(), 72);
  }
  EXPECT_TRUE(contains(probe["task_config"].get<std::string>(), "kind: go_transfer"));
  for (const char* key : {"features", "probe", "baselines"}) EXPECT_TRUE(probe["seconds"].contains(key)) << key;

  const auto queries = lines_of(ankh::core::read_file(o.output / "queries.txt"));
  EXPECT_EQ(static_cast<int64_t>(queries.size()), probe["query"].get<int64_t>());
  EXPECT_EQ(results["source"]["queries"].get<int64_t>(), static_cast<int64_t>(queries.size()));
  const auto predictions = lines_of(ankh::core::read_file(o.output / "predictions.tsv"));
  ASSERT_FALSE(predictions.empty());
  EXPECT_EQ(predictions[0], "query_id\tterm\tscore");
  const std::set<std::string> query_set(queries.begin(), queries.end());
  for (std::size_t i = 1; i < predictions.size(); ++i) {
    const auto tab = predictions[i].find('\t');
    ASSERT_NE(tab, std::string::npos) << predictions[i];
    EXPECT_TRUE(query_set.count(predictions[i].substr(0, tab))) << predictions[i];
  }
  EXPECT_TRUE(fs::exists(o.output / "results.md"));

  const nlohmann::json recomputed = recompute_fmax(o.output, o.task);
  EXPECT_NEAR(recomputed["fmax"].get<double>(), results["source"]["fmax"].get<double>(), 1e-6) << recomputed;
  EXPECT_NEAR(recomputed["threshold"].get<double>(), results["source"]["threshold"].get<double>(), 1e-6) << recomputed;
  for (const char* key : {"precision", "recall", "coverage"})
    EXPECT_NEAR(recomputed[key].get<double>(), results["source"][key].get<double>(), 1e-9) << key << " " << recomputed;
  EXPECT_EQ(recomputed["queries"], results["source"]["queries"]);
}

}  // namespace

TEST(ProbeRun, GoTransferFromARandomInitModelIsCachedAndRecomputable) {
  ScratchDir dir;
  // k 5: the farther neighbours' terms score lower, so Fmax's threshold is not 0 (0.19 here).
  write_text(dir / "tiny.yaml", tiny_model_yaml());
  ProbeRunOptions o;
  o.task = load_probe_task(write_go_task(dir.path(), "k: 5\n"));
  o.source = parse_probe_source("baseline:random-init:" + (dir / "tiny.yaml").string());
  o.output = dir / "out";
  o.blast = false;
  const ProbeRunResult first = run_probe(o);
  check_go_outputs(o, first, false);
  EXPECT_FALSE(first.results["probe"]["features_cached"].get<bool>());
  EXPECT_EQ(first.results["probe"]["dimensions"], 32);
  EXPECT_TRUE(fs::exists(o.output / "features.safetensors"));

  const ProbeRunResult second = run_probe(o);
  EXPECT_TRUE(second.results["probe"]["features_cached"].get<bool>());
  EXPECT_EQ(second.feature_seconds, 0);
  EXPECT_EQ(second.results["source"], first.results["source"]);
  EXPECT_EQ(second.results["naive"], first.results["naive"]);
  check_go_outputs(o, second, false);
}

TEST(ProbeRun, GoTransferFromCompositionBeatsTheNaiveBaseline) {
  ScratchDir dir;
  ProbeRunOptions o;
  o.task = load_probe_task(write_go_task(dir.path()), {"max_query=10"});
  o.source = parse_probe_source("baseline:composition");
  o.output = dir / "out dir";
  o.blast = have_blast();
  const ProbeRunResult r = run_probe(o);
  check_go_outputs(o, r, o.blast);
  EXPECT_EQ(r.results["probe"]["query"], 10);
  EXPECT_EQ(r.results["probe"]["dimensions"], 20);
  // Families differ by composition: the nearest neighbour is of the query's family (T7 is chance).
  EXPECT_GT(r.results["source"]["fmax"].get<double>(), 0.8);
  EXPECT_GT(r.results["source"]["fmax"].get<double>(), r.results["naive"]["fmax"].get<double>() + 0.2);
  const std::string md = ankh::core::read_file(o.output / "results.md");
  EXPECT_TRUE(contains(md, "| source |")) << md;
  EXPECT_TRUE(contains(md, "| naive |")) << md;
}

TEST(ProbeRun, ClassificationFromLabelsOnComposition) {
  ScratchDir dir;
  std::string fasta, labels;
  for (int i = 0; i < 80; ++i) {
    const bool alanine = i % 2 == 0;
    const std::string id = "C" + std::to_string(i);
    fasta += ">" + id + "\n" + protein(500 + i, 40 + i % 30, alanine ? 'A' : 'W', 0.4) + "\n";
    labels += id + "\t" + (alanine ? "alanine_rich" : "tryptophan_rich") + "\n";
  }
  fasta += ">unlabelled\n" + protein(9, 40) + "\n";
  write_text(dir / "in" / "p.fasta", fasta);
  write_text(dir / "in" / "labels.tsv", labels);
  write_text(dir / "in" / "rich.yaml",
             "kind: classification\nfasta: p.fasta\nlabels: labels.tsv\nquery_fraction: 0.3\nbootstrap: 100\n");
  ProbeRunOptions o;
  o.task = load_probe_task(dir / "in" / "rich.yaml");
  o.source = parse_probe_source("baseline:composition");
  o.output = dir / "out";
  const ProbeRunResult r = run_probe(o);
  const auto& results = r.results;
  EXPECT_EQ(read_probe_results(o.output / "results.json"), results);
  ASSERT_TRUE(results.contains("source"));
  ASSERT_TRUE(results.contains("majority"));
  EXPECT_GE(results["source"]["accuracy"].get<double>(), 0.95) << results["source"];
  EXPECT_GE(results["source"]["macro_f1"].get<double>(), 0.95) << results["source"];
  EXPECT_LT(results["majority"]["accuracy"].get<double>(), 0.8) << results["majority"];
  EXPECT_EQ(results["source"]["accuracy_ci"].size(), 2u);
  EXPECT_EQ(results["probe"]["classes"].get<std::vector<std::string>>(),
            (std::vector<std::string>{"alanine_rich", "tryptophan_rich"}));
  EXPECT_EQ(results["probe"]["kind"], "classification");
  EXPECT_EQ(results["probe"]["left_out"]["unlabelled"], 1);
  EXPECT_EQ(results["probe"]["lookup"].get<int64_t>() + results["probe"]["query"].get<int64_t>(), 80);
  EXPECT_EQ(results["source"]["proteins"], results["probe"]["query"]);
  EXPECT_FALSE(fs::exists(o.output / "predictions.tsv"));
  const std::string md = ankh::core::read_file(o.output / "results.md");
  EXPECT_TRUE(contains(md, "| source |")) << md;
  EXPECT_TRUE(contains(md, "| majority |")) << md;
  EXPECT_TRUE(contains(md, "accuracy")) << md;
}
