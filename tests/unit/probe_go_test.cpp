// The GO annotation-transfer probe on a hand-made ontology whose every number is worked out in
// the comments: graph loading and propagation, annotations and the query split, CAFA's Fmax,
// goPredSim's k-nearest-neighbour transfer and the naive baseline.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/error.h"
#include "tests/support/test_support.h"
#include "trainer/probe/fmax.h"
#include "trainer/probe/go_annotations.h"
#include "trainer/probe/go_graph.h"
#include "trainer/probe/go_transfer.h"

using namespace ankh::probe;
using ankh::testing::error_of;
using ankh::testing::ScratchDir;
using ankh::testing::write_text;

namespace {

// MF is the molecular-function root. A, B below MF; C below A; D is_a A and part_of B; G is_a D
// (and, redundantly, is_a A); E only `regulates` C, so it has no ancestors; F hangs from a
// pseudo-term, so it has none either.
//
//            MF
//           /  \   .
//          A    B
//         / \  .     D part_of B
//        C    D
//        :    |
//  (reg) E    G
const char* const kMF = "GO:0003674";
const char* const kA = "GO:0000001";
const char* const kB = "GO:0000002";
const char* const kC = "GO:0000003";
const char* const kD = "GO:0000004";
const char* const kE = "GO:0000005";
const char* const kF = "GO:0000006";
const char* const kG = "GO:0000007";

const char* const kGraph =
    "GO:0003674\tGO:0000001\t1\tis_a\n"
    "GO:0003674\tGO:0000002\t1\tis_a\n"
    "GO:0000001\tGO:0000003\t1\tis_a\n"
    "GO:0000001\tGO:0000004\t1\tis_a\n"
    "GO:0000002\tGO:0000004\t1\tpart_of\n"
    "GO:0000003\tGO:0000005\t1\tregulates\n"
    "obsolete_molecular_function\tGO:0000006\t1\tis_a\n"
    "\n"
    "GO:0000004\tGO:0000007\t1\tis_a\r\n"
    "GO:0000001\tGO:0000007\t2\tis_a\n";

GoGraph test_graph() { return GoGraph::parse(kGraph, "graph.txt"); }

TermId id(const GoGraph& g, const char* name) {
  const TermId t = g.find(name);
  EXPECT_NE(t, kNoTerm) << name;
  return t;
}

TermSet ids(const GoGraph& g, std::vector<const char*> names) {
  TermSet out;
  for (const char* n : names) out.push_back(id(g, n));
  std::sort(out.begin(), out.end());
  return out;
}

template <class Range>
std::vector<std::string> names(const GoGraph& g, const Range& terms) {
  std::vector<std::string> out;
  for (TermId t : terms) out.push_back(g.name(t));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// name -> score of a prediction, for comparisons.
std::map<std::string, float> scores(const GoGraph& g, const Prediction& p) {
  std::map<std::string, float> out;
  for (const auto& s : p) out[g.name(s.term)] = s.score;
  return out;
}

// The same terms with the same scores, up to float rounding.
void expect_scores(const std::map<std::string, float>& actual, const std::map<std::string, float>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (const auto& [term, score] : expected) {
    ASSERT_TRUE(actual.count(term)) << term << " is not predicted";
    EXPECT_NEAR(actual.at(term), score, 1e-6) << term;
  }
}

}  // namespace

TEST(GoGraph, AncestorsFollowIsAAndPartOfOnly) {
  ScratchDir dir;
  write_text(dir / "graph.txt", kGraph);
  const GoGraph g = GoGraph::load(dir / "graph.txt");
  // Terms: MF A B C D E G, F (the pseudo-term is not one). Edges: A-MF B-MF C-A D-A D-B G-D G-A.
  EXPECT_EQ(g.size(), 8);
  EXPECT_EQ(g.edges(), 7);
  EXPECT_EQ(g.find("obsolete_molecular_function"), kNoTerm);
  EXPECT_EQ(names(g, g.ancestors(id(g, kC))), sorted({kA, kMF}));
  EXPECT_EQ(names(g, g.ancestors(id(g, kD))), sorted({kA, kB, kMF}));
  EXPECT_EQ(names(g, g.ancestors(id(g, kG))), sorted({kA, kB, kD, kMF}));
  EXPECT_EQ(names(g, g.parents(id(g, kG))), sorted({kA, kD}));
  EXPECT_TRUE(g.ancestors(id(g, kE)).empty());  // regulates does not propagate
  EXPECT_TRUE(g.ancestors(id(g, kF)).empty());  // the pseudo-parent is left out
  EXPECT_TRUE(g.ancestors(id(g, kMF)).empty());
}

TEST(GoGraph, PropagateAddsAncestorsOnce) {
  const GoGraph g = test_graph();
  // {C, E, C} -> C's ancestors A, MF; E has none.
  EXPECT_EQ(g.propagate({id(g, kC), id(g, kE), id(g, kC)}), ids(g, {kC, kE, kA, kMF}));
  EXPECT_EQ(g.propagate({id(g, kG)}), ids(g, {kG, kD, kA, kB, kMF}));
  EXPECT_TRUE(g.propagate({}).empty());
}

TEST(GoGraph, Roots) {
  const GoGraph g = test_graph();
  EXPECT_TRUE(g.is_root(id(g, kMF)));
  EXPECT_FALSE(g.is_root(id(g, kA)));
  EXPECT_FALSE(g.is_root(kNoTerm));
  EXPECT_EQ(g.root(kMolecularFunction), id(g, kMF));
  EXPECT_EQ(g.root(kBiologicalProcess), kNoTerm);  // not in this graph
  EXPECT_EQ(g.root_of(id(g, kG)), id(g, kMF));
  EXPECT_EQ(g.root_of(id(g, kMF)), id(g, kMF));
  EXPECT_EQ(g.root_of(id(g, kE)), kNoTerm);
}

TEST(GoGraph, MalformedLinesNameFileAndLine) {
  EXPECT_NE(error_of<ankh::core::InputError>([] { GoGraph::parse("GO:1\tGO:2\t1\tis_a\nGO:1\tGO:3\t1\n", "g.txt"); })
                .find("g.txt:2: expected 4 tab-separated fields"),
            std::string::npos);
  EXPECT_NE(error_of<ankh::core::InputError>([] { GoGraph::parse("GO:1\tGO:2\tfar\tis_a\n", "g.txt"); })
                .find("g.txt:1: distance 'far'"),
            std::string::npos);
  EXPECT_NE(error_of<ankh::core::InputError>([] { GoGraph::parse("\tGO:2\t1\tis_a\n", "g.txt"); }).find("g.txt:1: empty term"),
            std::string::npos);
  const std::string cycle = error_of<ankh::core::InputError>(
      [] { GoGraph::parse("GO:1\tGO:2\t1\tis_a\nGO:2\tGO:3\t1\tpart_of\nGO:3\tGO:2\t1\tis_a\n", "g.txt"); });
  EXPECT_NE(cycle.find("cycle"), std::string::npos) << cycle;
  EXPECT_THROW(GoGraph::load("/nonexistent/goGraph.txt"), ankh::core::IoError);
}

TEST(GoGraph, MetastudentGraphIfInstalled) {
  const char* path = "/usr/share/metastudent-data/dataset_201401/goGraph.txt";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "metastudent-data is not installed (scripts/setup.sh)";
  const GoGraph g = GoGraph::load(path);
  EXPECT_GT(g.size(), 30000);
  const TermId reproduction = g.find("GO:0000003");
  ASSERT_NE(reproduction, kNoTerm);
  EXPECT_EQ(g.root_of(reproduction), g.root(kBiologicalProcess));
  for (const char* root : {kMolecularFunction, kCellularComponent, kBiologicalProcess}) {
    ASSERT_NE(g.root(root), kNoTerm) << root;
    EXPECT_TRUE(g.ancestors(g.root(root)).empty()) << root;
  }
}

TEST(GoAnnotations, ReadDedupeMergeAndUnknownTerms) {
  const GoGraph g = test_graph();
  ScratchDir dir;
  write_text(dir / "annot.dat",
             "P1\tGO:0000003\tGO:0000003\n"
             "P2\tGO:0000007\t\n"
             "\n"
             "P1\tGO:0000002\r\n"
             "P3\tGO:9999999\n");
  const Annotations a = read_annotations(dir / "annot.dat", g);
  ASSERT_EQ(a.terms.size(), 3u);
  EXPECT_EQ(a.terms.at("P1"), ids(g, {kC, kB}));  // the repeat once, the second line merged
  EXPECT_EQ(a.terms.at("P2"), ids(g, {kG}));
  EXPECT_TRUE(a.terms.at("P3").empty());
  EXPECT_EQ(a.unknown_terms, 1);
  EXPECT_EQ(a.example_unknown, "GO:9999999");

  Annotations propagated = a;
  propagate_all(propagated, g);
  EXPECT_EQ(propagated.terms.at("P1"), ids(g, {kC, kA, kB, kMF}));
  EXPECT_EQ(propagated.terms.at("P2"), ids(g, {kG, kD, kA, kB, kMF}));
}

TEST(GoAnnotations, MalformedLinesNameFileAndLine) {
  const GoGraph g = test_graph();
  const auto error = [&](const std::string& text) {
    return error_of<ankh::core::InputError>([&] { parse_annotations(text, "a.dat", g); });
  };
  EXPECT_NE(error("P1\tGO:0000001\nP2\tnot-a-term\n").find("a.dat:2: field 2 ('not-a-term') is not a GO id"),
            std::string::npos);
  EXPECT_NE(error("P1\n").find("a.dat:1: protein P1 has no GO terms"), std::string::npos);
  EXPECT_NE(error("\tGO:0000001\n").find("a.dat:1: the line has no protein id"), std::string::npos);
  EXPECT_NE(error("P1 GO:0000001\n").find("a.dat:1:"), std::string::npos);  // spaces are not tabs
}

TEST(GoAnnotations, ProteinIdOfHeader) {
  EXPECT_EQ(protein_id_of_header(">B0RED7|GO:0046933,GO:0046933"), "B0RED7");
  EXPECT_EQ(protein_id_of_header("B0RED7|GO:0046933"), "B0RED7");
  EXPECT_EQ(protein_id_of_header(">P1 some description"), "P1");
  EXPECT_EQ(protein_id_of_header("P1"), "P1");
}

TEST(GoAnnotations, QuerySplitIsDeterministicAndNearItsFraction) {
  int queries = 0, moved = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const std::string protein = "P" + std::to_string(i);
    const bool q = in_query_set(protein, 0.2, 7);
    EXPECT_EQ(q, in_query_set(protein, 0.2, 7));
    queries += q;
    moved += q != in_query_set(protein, 0.2, 8);
    EXPECT_FALSE(in_query_set(protein, 0.0, 7));
    EXPECT_TRUE(in_query_set(protein, 1.0, 7));
  }
  // Binomial(20000, 0.2): sd 57 proteins; 0.2 +- 0.01 is 3.5 sd.
  EXPECT_NEAR(queries / static_cast<double>(n), 0.2, 0.01);
  EXPECT_GT(moved, n / 10);  // another seed, another split (about 32 % of the proteins move)
}

TEST(Fmax, HandWorkedExample) {
  const GoGraph g = test_graph();
  // q0: truth {C, A} (MF left out); predicts C 0.8 and A 0.8 (right), D 0.5 (wrong), MF (root, left out).
  // q1: truth {B}; predicts A 0.3 (wrong).
  // q2: truth only the root: not annotated, ignored with its prediction.
  // q3: truth {G, D, A, B}; predicts nothing.
  const std::vector<TermSet> truth = {g.propagate({id(g, kC)}), g.propagate({id(g, kB)}), {id(g, kMF)},
                                      g.propagate({id(g, kG)})};
  const std::vector<Prediction> predictions = {
      {{id(g, kC), 0.8f}, {id(g, kA), 0.8f}, {id(g, kD), 0.5f}, {id(g, kMF), 1.0f}},
      {{id(g, kA), 0.3f}},
      {{id(g, kA), 0.9f}},
      {}};
  // Three annotated queries. Per threshold:
  //   t <= 0.30: q0 2/3 precise, recall 1; q1 precision 0, recall 0; q3 recall 0
  //              p = (2/3 + 0) / 2 = 1/3, r = 1/3, F = 1/3
  //   0.31..0.50: only q0 predicts: p = 2/3, r = 1/3, F = 4/9
  //   0.51..0.80: q0 predicts C and A only: p = 1, r = 1/3, F = 2 (1/3) / (4/3) = 1/2
  //   above 0.80: nothing is predicted, no F
  // Fmax = 1/2 at the lowest such t, 0.51; coverage there: 1 of 3 queries.
  const FmaxResult r = fmax(g, predictions, truth);
  EXPECT_EQ(r.queries, 3);
  EXPECT_NEAR(r.fmax, 0.5, 1e-12);
  EXPECT_NEAR(r.threshold, 0.51, 1e-12);
  EXPECT_NEAR(r.precision, 1.0, 1e-12);
  EXPECT_NEAR(r.recall, 1.0 / 3, 1e-12);
  EXPECT_NEAR(r.coverage, 1.0 / 3, 1e-12);
}

TEST(Fmax, ThresholdsHaveNoDrift) {
  const GoGraph g = test_graph();
  // t <= 0.56: A and B predicted, p = 1/2, r = 1, F = 2/3; t = 0.57: A alone, F = 1. A float
  // threshold summed 0.01 at a time passes 0.57 by then and would never see F = 1.
  const std::vector<TermSet> truth = {{id(g, kA)}};
  const std::vector<Prediction> predictions = {{{id(g, kA), 0.57f}, {id(g, kB), 0.56f}}};
  const FmaxResult r = fmax(g, predictions, truth);
  EXPECT_NEAR(r.fmax, 1.0, 1e-12);
  EXPECT_NEAR(r.threshold, 0.57, 1e-12);
  EXPECT_NEAR(r.coverage, 1.0, 1e-12);
}

TEST(Fmax, EdgeCases) {
  const GoGraph g = test_graph();
  // No annotated query: all zeros.
  const FmaxResult none = fmax(g, {{{id(g, kA), 1.0f}}}, {{id(g, kMF)}});
  EXPECT_EQ(none.queries, 0);
  EXPECT_EQ(none.fmax, 0);
  // Nothing predicted right: Fmax 0 at threshold 0; coverage 1/2 (one of two queries predicts).
  const FmaxResult wrong = fmax(g, {{{id(g, kB), 0.9f}}, {}}, {{id(g, kA)}, {id(g, kC)}});
  EXPECT_EQ(wrong.queries, 2);
  EXPECT_EQ(wrong.fmax, 0);
  EXPECT_EQ(wrong.threshold, 0);
  EXPECT_NEAR(wrong.coverage, 0.5, 1e-12);
  // A term predicted twice counts once, with its higher score: F = 1 up to 0.9.
  const FmaxResult twice = fmax(g, {{{id(g, kA), 0.2f}, {id(g, kA), 0.9f}}}, {{id(g, kA)}});
  EXPECT_NEAR(twice.fmax, 1.0, 1e-12);
  EXPECT_THROW(fmax(g, {{}, {}}, {{}}), ankh::core::InputError);
}

TEST(Fmax, PropagateScoresTakesTheMaxOverDescendants) {
  const GoGraph g = test_graph();
  // C 0.7 -> A, MF; D 0.4 -> A, B, MF; G 0.5 -> D, A, B, MF.
  // D = max(0.4, 0.5); A = max(0.7, 0.4, 0.5); B = max(0.4, 0.5); MF = 0.7.
  const Prediction p = propagate_scores(g, {{id(g, kC), 0.7f}, {id(g, kD), 0.4f}, {id(g, kG), 0.5f}});
  const std::map<std::string, float> expected = {{kC, 0.7f}, {kD, 0.5f}, {kG, 0.5f},
                                                 {kA, 0.7f}, {kB, 0.5f}, {kMF, 0.7f}};
  expect_scores(scores(g, p), expected);
  EXPECT_TRUE(std::is_sorted(p.begin(), p.end(), [](const ScoredTerm& a, const ScoredTerm& b) { return a.term < b.term; }));
}

namespace {

// Three lookup proteins in the plane: L0 (0,0) {A, MF}, L1 (3,0) {B, MF}, L2 (0,4) {C, A, MF}.
struct Lookup {
  torch::Tensor embeddings = torch::tensor({{0.f, 0.f}, {3.f, 0.f}, {0.f, 4.f}});
  std::vector<TermSet> terms;
  explicit Lookup(const GoGraph& g)
      : terms{ids(g, {kA, kMF}), ids(g, {kB, kMF}), ids(g, {kC, kA, kMF})} {}
};

}  // namespace

TEST(GoTransfer, EuclideanNearestNeighbours) {
  const GoGraph g = test_graph();
  const Lookup lookup(g);
  // Q0 (1,0): L0 at 1 (score 0.5/1.5 = 1/3), L1 at 2 (0.5/2.5 = 1/5), L2 at sqrt(17).
  // Q1 (0,3): L2 at 1 (1/3), L0 at 3 (0.5/3.5 = 1/7), L1 at sqrt(18).
  const torch::Tensor queries = torch::tensor({{1.f, 0.f}, {0.f, 3.f}});
  TransferOptions o;
  o.k = 2;
  const Neighbours n = nearest_neighbours(lookup.embeddings, queries, o);
  EXPECT_TRUE(torch::equal(n.index, torch::tensor({{0, 1}, {2, 0}}, torch::kInt64)));
  EXPECT_TRUE(torch::allclose(n.score, torch::tensor({{1.f / 3, 1.f / 5}, {1.f / 3, 1.f / 7}})));

  const auto k2 = transfer_annotations(lookup.embeddings, queries, lookup.terms, o);
  ASSERT_EQ(k2.size(), 2u);
  // Q0: L0's A, MF at 1/3; L1's B at 1/5 (its MF is beaten by L0's).
  expect_scores(scores(g, k2[0]), {{kA, 1.f / 3}, {kMF, 1.f / 3}, {kB, 1.f / 5}});
  // Q1: L2's C, A, MF at 1/3; L0 adds nothing new.
  expect_scores(scores(g, k2[1]), {{kC, 1.f / 3}, {kA, 1.f / 3}, {kMF, 1.f / 3}});

  o.k = 1;
  const auto k1 = transfer_annotations(lookup.embeddings, queries, lookup.terms, o);
  expect_scores(scores(g, k1[0]), {{kA, 1.f / 3}, {kMF, 1.f / 3}});
  expect_scores(scores(g, k1[1]), {{kC, 1.f / 3}, {kA, 1.f / 3}, {kMF, 1.f / 3}});
}

TEST(GoTransfer, CosineNearestNeighbours) {
  const GoGraph g = test_graph();
  // L0 (1,0) {A, MF}, L1 (0,2) {B, MF}, L2 (-1,0) {C, A, MF}; Q (3,4): cosines 0.6, 0.8, -0.6 (-> 0).
  const torch::Tensor lookup = torch::tensor({{1.f, 0.f}, {0.f, 2.f}, {-1.f, 0.f}});
  const std::vector<TermSet> terms{ids(g, {kA, kMF}), ids(g, {kB, kMF}), ids(g, {kC, kA, kMF})};
  const torch::Tensor query = torch::tensor({{3.f, 4.f}});
  TransferOptions o;
  o.distance = Distance::Cosine;
  o.k = 1;
  expect_scores(scores(g, transfer_annotations(lookup, query, terms, o)[0]), {{kB, 0.8f}, {kMF, 0.8f}});
  o.k = 2;
  const auto k2 = scores(g, transfer_annotations(lookup, query, terms, o)[0]);
  ASSERT_EQ(k2.size(), 3u);
  EXPECT_NEAR(k2.at(kB), 0.8f, 1e-6);
  EXPECT_NEAR(k2.at(kMF), 0.8f, 1e-6);
  EXPECT_NEAR(k2.at(kA), 0.6f, 1e-6);
  o.k = 3;  // the opposite protein's terms come in at 0 (clamped), its A stays at 0.6
  const auto k3 = scores(g, transfer_annotations(lookup, query, terms, o)[0]);
  EXPECT_NEAR(k3.at(kC), 0.0f, 1e-6);
  EXPECT_NEAR(k3.at(kA), 0.6f, 1e-6);
}

TEST(GoTransfer, ChunkingAndLargeKChangeNothing) {
  const GoGraph g = test_graph();
  const Lookup lookup(g);
  torch::manual_seed(0);
  const torch::Tensor queries = torch::randn({7, 2}, torch::TensorOptions().dtype(torch::kFloat64));
  TransferOptions whole, rows;
  whole.k = rows.k = 2;
  rows.chunk_bytes = 1;  // one query row per chunk
  const Neighbours a = nearest_neighbours(lookup.embeddings, queries, whole);
  const Neighbours b = nearest_neighbours(lookup.embeddings, queries, rows);
  EXPECT_TRUE(torch::equal(a.index, b.index));
  EXPECT_TRUE(torch::allclose(a.score, b.score));
  whole.k = 10;  // more than the lookup has: all three
  EXPECT_EQ(nearest_neighbours(lookup.embeddings, queries, whole).index.size(1), 3);
}

TEST(GoTransfer, RefusesMismatchedInputs) {
  const GoGraph g = test_graph();
  const Lookup lookup(g);
  TransferOptions o;
  EXPECT_THROW(nearest_neighbours(lookup.embeddings, torch::zeros({1, 3}), o), ankh::core::InputError);
  EXPECT_THROW(nearest_neighbours(lookup.embeddings, torch::zeros({3}), o), ankh::core::InputError);
  EXPECT_THROW(transfer_annotations(lookup.embeddings, torch::zeros({1, 2}), {lookup.terms[0]}, o), ankh::core::InputError);
  o.k = 0;
  EXPECT_THROW(nearest_neighbours(lookup.embeddings, torch::zeros({1, 2}), o), ankh::core::InputError);
}

TEST(GoTransfer, DistanceNames) {
  EXPECT_EQ(distances().parse("cosine"), Distance::Cosine);
  EXPECT_EQ(distances().parse("euclidean"), Distance::Euclidean);
  EXPECT_FALSE(distances().parse("manhattan"));
  EXPECT_STREQ(name_of(Distance::Euclidean), "euclidean");
}

TEST(GoTransfer, NaiveBaselineIsTermFrequency) {
  const GoGraph g = test_graph();
  const Lookup lookup(g);
  // A in 2 of 3 lookup proteins, B and C in 1, MF in all.
  expect_scores(scores(g, naive_prediction(lookup.terms)), {{kA, 2.f / 3}, {kB, 1.f / 3}, {kC, 1.f / 3}, {kMF, 1.f}});
  EXPECT_TRUE(naive_prediction({}).empty());
}
