// `ankh probe SOURCE TASK.yaml`: the proteins of a task, the features of SOURCE for them, the
// probe (GO annotation transfer or a linear classifier) and its baselines, written to DIR:
//
//   results.json     {"source": {metrics}, "<baseline>": {metrics}, ..., "probe": {what was run}}
//   results.md       the same as a table
//   predictions.tsv  go_transfer: query_id, term, score of every prediction of SOURCE
//   queries.txt      go_transfer: the query ids (the annotated ones are what Fmax averages over)
//   proteins.fasta   the probed proteins, lookup (training) part first, then the queries (test)
//   features.safetensors   the cached features (reused by the next probe of the same source)
//   work/            BLAST's files
//
// docs/probes.md has the metrics' definitions and the baselines.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "trainer/probe/probe_source.h"
#include "trainer/probe/probe_task.h"

namespace ankh::probe {

struct ProbeRunOptions {
  ProbeTask task;
  ProbeSource source;
  std::filesystem::path output;  // DIR
  FeatureOptions features;
  int threads = 1;               // BLAST's threads
  bool blast = true;             // go_transfer: run the BLAST baseline (needs ncbi-blast+)
};

struct ProbeRunResult {
  nlohmann::json results;      // what results.json holds
  double feature_seconds = 0;  // computing the features (0 when cached)
  double fit_seconds = 0;      // the probe itself: neighbours or the classifier, and scoring
  double baseline_seconds = 0;
};

// Runs the probe and writes DIR (each file atomically). Errors name the task file, the source
// or the input file at fault.
ProbeRunResult run_probe(const ProbeRunOptions& options);

// The whole results.json a probe wrote (InputError when it is not JSON); headline_metrics
// (prepared_probe.h) picks a method's summary metrics out of it.
nlohmann::json read_probe_results(const std::filesystem::path& results_json);

}  // namespace ankh::probe
