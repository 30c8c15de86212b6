// The options of `ankh generate` (docs/generation.md, "Generating proteins"): what is generated
// (infill of chosen positions, or completion of a prefix) and how tokens are chosen (greedy,
// sampled with temperature / top-k / top-p, or beam search).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/types.h>

#include "data/fasta_reader.h"

namespace ankh::generation {

enum class GenerateMode { kInfill, kComplete };

// How a free token is chosen. temperature 0 (default): greedy (the most probable allowed token);
// > 0: sampled from the allowed tokens' softmax(logits / temperature), cut to the top_k most
// probable (0: all) and to the smallest set whose probability reaches top_p (1: all). beam > 0:
// beam search of that width over the sum of log-probabilities (no sampling options then).
struct DecodingOptions {
  double temperature = 0.0;
  int64_t top_k = 0;
  double top_p = 1.0;
  int64_t beam = 0;
  bool allow_nonstandard = false;  // residues: all 25 letters instead of the 20 standard amino acids

  bool sampling() const { return temperature > 0; }
  // UsageError naming the option when the combination is invalid (beam with sampling options,
  // top-k / top-p without a temperature, values out of range).
  void validate() const;
};

struct GenerateOptions {
  std::filesystem::path source;  // checkpoint, run or Hugging Face directory
  std::filesystem::path fasta;   // the seed proteins (plain or gzip)
  std::filesystem::path output;  // OUT.fasta
  GenerateMode mode = GenerateMode::kInfill;
  int64_t num = 1;               // variants per seed protein
  // infill: the positions to redesign, 1-based ("" = drawn at random with mask_prob)
  std::string positions;
  double mask_prob = 0.1;
  // complete: the prefix kept (prefix_length > 0 wins over prefix_fraction) and the most residues
  // generated after it (0: 1.5 x the seed's remaining length, at least 1)
  double prefix_fraction = 0.5;
  int64_t prefix_length = 0;
  int64_t max_new = 0;
  DecodingOptions decoding;
  uint64_t seed = 0;
  int64_t batch_size = 16;       // (seed protein, attempt) jobs decoded together
  int64_t max_attempts_per_variant = 20;  // a seed gets at most this x num attempts
  std::string task_token;        // overrides the task token read from the checkpoint ("none": none)
  torch::ScalarType dtype = torch::kFloat32;
  torch::Device device = torch::kCPU;
  data::InvalidPolicy on_invalid = data::InvalidPolicy::Error;
  bool overwrite = false;
};

}  // namespace ankh::generation
