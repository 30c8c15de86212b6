// `ankh embed`: encoder states of proteins for downstream models. Each protein is encoded as
// its residues + </s> (as in training); the per-protein embedding is the mean of the encoder's
// last hidden state over the residue positions (</s> and padding excluded), the per-residue one
// those rows themselves. Proteins are sorted by length (longest first, so that running out of
// memory happens at once, not hours in) and packed into batches of at most `batch_tokens` padded
// tokens; results are handed back under each protein's input index, so the output keeps the
// FASTA order and does not depend on the batching (up to float rounding, tested at 1e-5).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "data/fasta_reader.h"
#include "trainer/model/model.h"

namespace ankh::weights {

struct EmbedBatchOptions {
  int64_t batch_tokens = 16384;  // padded encoder tokens per batch (proteins x (longest + 1)); one protein at least
  bool per_residue = false;      // also hand out the [L, d_model] rows
  bool progress = false;         // progress bar (TTY) or a log line every few seconds on stderr
  // Bytes for the weights and one batch (model::estimate_encoder_inference); 0: the weights
  // already loaded plus what the device can still give (model::memory_headroom). A batch that
  // would need more is split; a protein that does not fit alone stops the run before any batch,
  // with an error naming it (describe), its length and the longest length that fits (length_hint).
  double memory_limit = 0;
  std::string memory_limit_option = "--memory-limit";  // named in the error's hint
  std::function<std::string(int64_t index)> describe;  // where protein `index` comes from (default "protein N")
  // How the caller bounds lengths, given the most residues that fit (default: a plain sentence).
  std::function<std::string(int64_t fitting_residues)> length_hint;
};

// Whether `batch` proteins padded to `tokens` tokens fit in memory; empty: always.
using BatchFits = std::function<bool(int64_t batch, int64_t tokens)>;

// Input indices per batch: sorted by decreasing length (ties by index), each batch within the
// token budget counting </s> and, with `fits`, within memory (a protein that does not fit even
// alone is alone in its batch: the caller refuses it); a longer protein alone in its batch. Pure;
// tested directly.
std::vector<std::vector<int64_t>> plan_batches(const std::vector<int64_t>& lengths, int64_t batch_tokens,
                                               const BatchFits& fits = {});

// The most residues one protein may have (alone, with its </s>) to fit; 0 when none fits.
int64_t longest_fitting(const BatchFits& fits, int64_t upper_bound);

// Called once per protein: its input index, the mean [d_model] and, with per_residue, the rows
// [L, d_model] (undefined otherwise); float32 on the CPU.
using EmbeddingSink = std::function<void(int64_t index, const torch::Tensor& mean, const torch::Tensor& residues)>;

// Runs the encoder of `model` (on its device and dtype, in eval mode, without gradients) over
// `sequences` (residue ids, no </s>; none empty). Memory is checked before the first batch (see
// EmbedBatchOptions::memory_limit): a core::Error names a protein too long for it. Returns the
// number of batches run.
int64_t embed_sequences(model::T5Model& model, const std::vector<std::vector<uint8_t>>& sequences,
                        const EmbedBatchOptions& options, const EmbeddingSink& sink);

// The encoder of the model in a checkpoint, run or Hugging Face directory, on `device` in `dtype`
// (kFloat32 or kBFloat16), in eval mode, with a one-block decoder (only the encoder runs): what
// `ankh embed` and `ankh probe` encode with. Refuses a vocabulary without Ankh's residue ids.
struct Encoder {
  model::T5Model model{nullptr};
  std::string source;  // the directory the weights came from
  int64_t step = -1;   // checkpoint step; -1 for a Hugging Face directory
  bool hugging_face = false;
  int64_t d_model = 0;
};
Encoder load_encoder(const std::filesystem::path& source, const torch::Device& device, torch::ScalarType dtype);

struct EmbedOptions {
  std::filesystem::path source;  // checkpoint, run or Hugging Face directory
  std::filesystem::path fasta;   // plain or gzip
  std::filesystem::path output;  // the .h5 file (docs/formats.md "Embeddings file")
  EmbedBatchOptions batch;
  // Residues kept per protein (0: all). Longer proteins are truncated to their first
  // max_length residues, counted and warned about; /fasta_lengths keeps the full lengths.
  // A protein that does not fit in memory even alone is refused before the output is created,
  // naming the max_length that would fit (batch.memory_limit).
  int64_t max_length = 0;
  torch::ScalarType dtype = torch::kFloat32;  // compute dtype: kFloat32 or kBFloat16 (weights cast); output is float32
  torch::Device device = torch::kCPU;
  data::InvalidPolicy on_invalid = data::InvalidPolicy::Error;
  bool overwrite = false;
};

struct EmbedResult {
  int64_t proteins = 0;
  int64_t residues = 0;       // embedded (after truncation)
  int64_t truncated = 0;      // proteins cut to max_length
  int64_t skipped = 0;        // empty records and, with --on-invalid skip, invalid ones
  int64_t d_model = 0;
  int64_t step = -1;          // of the checkpoint; -1 for a Hugging Face directory
  std::string source;         // the directory the weights came from
  double seconds = 0;         // encoding and writing
};

// Reads the whole FASTA (errors name file:line) and loads the weights before the output is
// created; writes into a temporary name beside the output and renames it when complete, so a
// failure leaves no file under the output's name (and an existing one untouched).
EmbedResult embed_fasta(const EmbedOptions& options);

}  // namespace ankh::weights
