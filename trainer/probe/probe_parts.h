// The two kinds of probe behind run_probe (probe_run.h), and what they share. Internal to
// ankh_probe.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainer/probe/probe_run.h"
#include "trainer/probe/protein_set.h"

namespace ankh::probe {

ProbeRunResult run_go_transfer(const ProbeRunOptions& options);
ProbeRunResult run_classification(const ProbeRunOptions& options);

// The features of the lookup proteins followed by the queries', split back into the two parts;
// logs where they came from. `timing` gets the seconds spent computing them.
struct SplitFeatures {
  torch::Tensor lookup, query;
  Features features;
};
SplitFeatures split_features(const ProbeRunOptions& options, const ProteinSplit& split);

// The "probe" object of results.json: task, source, sizes and timings.
nlohmann::json probe_description(const ProbeRunOptions& options, const ProteinSplit& split, const Features& features);

}  // namespace ankh::probe
