// `ankh score`: zero-shot variant effects as masked marginals (Meier et al. 2021) in the sentinel
// format of the `ankh` objective (docs/generation.md, "Scoring variants"). For a mutant changing
// positions p_1 < ... < p_m of a protein, the encoder reads the protein with p_i replaced by
// <extra_id_{i-1}> and </s> at the end; the decoder is teacher-forced with the wild type,
// <pad> <extra_id_0> r_1 <extra_id_1> r_2 ... (target <extra_id_0> r_1 ... </s>), and at the step
// that predicts r_i the log-softmax over the whole vocabulary gives
//   score = sum_i [log p(mutant_i) - log p(wild type_i)].
// Mutants sharing a protein and a set of positions share one pass (the 19 single mutants of a
// position are one pass); passes are sorted by length and run in batches.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/types.h>

#include "trainer/generation/mutations.h"
#include "trainer/model/model.h"

namespace ankh::generation {

// One mutant of protein number `protein` (an index into the proteins handed to score_variants);
// substitutions sorted by position, checked against the protein (check_mutant).
struct Variant {
  int64_t protein = 0;
  std::vector<Substitution> substitutions;
};

// The encoder input and the decoder's teacher-forced input of one pass over `protein` (residue
// ids) with the 1-based `positions` (increasing) masked: input_ids = the protein with position p_i
// replaced by <extra_id_{i-1}>, then </s>; decoder_input_ids = <pad> <extra_id_0> r_1 ...
// <extra_id_{m-1}> r_m (the target <extra_id_0> r_1 ... r_m </s> shifted right). Step 2i+1
// (0-based) of the decoder predicts r_{i+1}.
struct MaskedPass {
  std::vector<int64_t> input_ids;
  std::vector<int64_t> decoder_input_ids;
};
MaskedPass masked_pass(const std::vector<uint8_t>& protein, const std::vector<int64_t>& positions);

struct ScoreBatchOptions {
  int64_t batch_size = 32;  // passes per forward
  bool progress = false;    // progress bar (TTY) or periodic log lines on stderr
};

struct ScoreStats {
  int64_t passes = 0;   // distinct (protein, position set) pairs run
  int64_t batches = 0;  // forwards
};

// The score of every variant, in order (0 for a variant without substitutions), from `model` on
// its device and dtype, in eval mode, without gradients; log-softmax in float32.
std::vector<double> score_variants(model::T5Model& model, const std::vector<std::vector<uint8_t>>& proteins,
                                   const std::vector<Variant>& variants, const ScoreBatchOptions& options,
                                   ScoreStats* stats = nullptr);

// Ranks 1..n with ties given the average of the ranks they span.
std::vector<double> average_ranks(const std::vector<double>& values);
// Spearman's rank correlation (Pearson's of the average ranks); NaN with fewer than two pairs or
// when either side is constant.
double spearman(const std::vector<double>& x, const std::vector<double>& y);

// An encoder-decoder of a checkpoint, run or Hugging Face directory, on `device` in `dtype`
// (kFloat32 or kBFloat16), in eval mode with dropout off. CheckpointError for an encoder-only
// export (it has no decoder, so it cannot score) and for a vocabulary without Ankh's ids.
struct Scorer {
  model::T5Model model{nullptr};
  std::string source;  // the directory the weights came from
  int64_t step = -1;   // checkpoint step; -1 for a Hugging Face directory
  bool hugging_face = false;
  int64_t trained_length = 0;  // data.max_length of a checkpoint's config; 0 when unknown
};
Scorer load_scorer(const std::filesystem::path& source, const torch::Device& device, torch::ScalarType dtype);

struct ScoreOptions {
  std::filesystem::path source;     // checkpoint, run or Hugging Face directory
  std::filesystem::path fasta;      // wild types (plain or gzip)
  std::filesystem::path mutations;  // CSV with a `mutant` column (ProteinGym layout)
  std::filesystem::path output;     // CSV: the input's columns and rows, then `score`
  ScoreBatchOptions batch;
  torch::ScalarType dtype = torch::kFloat32;
  torch::Device device = torch::kCPU;
  bool overwrite = false;
};

struct Correlation {
  std::string protein;  // "" for all rows together
  int64_t pairs = 0;    // rows with a numeric DMS_score
  double spearman = 0;  // NaN when undefined
};

struct ScoreResult {
  int64_t rows = 0;
  int64_t proteins = 0;      // distinct proteins the rows name
  int64_t positions = 0;     // mutated positions over all rows (a double mutant counts 2)
  ScoreStats stats;
  bool has_dms = false;      // the input has a DMS_score column
  int64_t dms_skipped = 0;   // rows whose DMS_score is blank or NA
  Correlation overall;
  std::vector<Correlation> per_protein;  // only when the rows name more than one protein
  int64_t longer_than_trained = 0;       // proteins longer than the model's data.max_length - 1
  std::string source;
  int64_t step = -1;
  double load_seconds = 0, score_seconds = 0, seconds = 0;
};

// Checks the options and every row (errors name the row: FILE:LINE (row N)) before loading the
// model, scores, and writes the output atomically (temporary name, then rename); an existing
// output is refused without `overwrite`.
ScoreResult score_file(const ScoreOptions& options);

}  // namespace ankh::generation
