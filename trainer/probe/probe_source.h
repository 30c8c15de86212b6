// What a probe measures: the per-protein embeddings of a trained model, or a baseline every
// model must beat. A SOURCE on the command line is a checkpoint, run or Hugging Face directory
// (as for `ankh embed`), or one of
//   baseline:composition           the 20 standard amino-acid frequencies of the protein
//   baseline:dipeptide             the 400 frequencies of consecutive residue pairs
//   baseline:random-init:CONFIG    an untrained model of CONFIG's model: section (run.seed's init)
// Features are computed once per source and protein list and cached beside the results.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/types.h>

#include "trainer/probe/protein_set.h"

namespace ankh::probe {

enum class SourceKind { Model, Composition, Dipeptide, RandomInit };

struct ProbeSource {
  SourceKind kind = SourceKind::Model;
  std::string text;             // as given
  std::filesystem::path path;   // Model: the directory; RandomInit: the config file
};

// UsageError for an unknown baseline name or a missing path.
ProbeSource parse_probe_source(const std::string& text);

struct FeatureOptions {
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat32;  // model compute dtype (features are float32)
  int64_t batch_tokens = 16384;
  double memory_limit = 0;  // bytes for weights and a batch; 0: detected (weights::EmbedBatchOptions)
  bool progress = false;
};

struct Features {
  torch::Tensor values;      // [proteins, dimensions] float32, CPU, in the proteins' order
  std::string description;   // "checkpoint runs/x/checkpoints/step-00000300 (step 300)", "composition (20)"
  int64_t step = -1;         // the checkpoint's step, when the source is one
  double seconds = 0;        // computing them (0 when read from the cache)
  bool cached = false;
};

// The features of `proteins`. With a non-empty `cache`, a file written by an earlier call for
// the same source (its weights' file, size and time) and the same protein ids is read instead of
// recomputing; otherwise the features are written there (atomically) for the next call.
Features protein_features(const ProbeSource& source, const std::vector<Protein>& proteins,
                          const FeatureOptions& options, const std::filesystem::path& cache);

// Composition and dipeptide frequencies: pure functions, tested directly.
torch::Tensor composition_features(const std::vector<Protein>& proteins);
torch::Tensor dipeptide_features(const std::vector<Protein>& proteins);

}  // namespace ankh::probe
