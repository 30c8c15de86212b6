// The HDF5 file `ankh embed` writes (docs/formats.md "Embeddings file"):
//
//   /ids             [N]            variable-length UTF-8 strings: FASTA ids, in FASTA order
//   /lengths         [N]   int64    residues embedded per protein (after --max-length)
//   /fasta_lengths   [N]   int64    residues in the FASTA record
//   /mean            [N, d] float32 mean of the encoder's last hidden state over the residues
//   /residues        [R, d] float32 per-residue rows of all proteins, concatenated (--per-residue)
//   /offsets         [N+1] int64    protein i is /residues[offsets[i]:offsets[i+1]] (--per-residue)
//   attributes: format, format_version, source, step, d_model, ...
//
// Rows are written by index as results arrive (in any order), so memory stays bounded by a batch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace ankh::weights {

inline constexpr const char* kEmbeddingsFormat = "ankh-embeddings";
inline constexpr int64_t kEmbeddingsFormatVersion = 1;

struct EmbeddingsLayout {
  std::vector<std::string> ids;
  std::vector<int64_t> lengths;        // rows per protein in /residues; the mean's divisor
  std::vector<int64_t> fasta_lengths;  // before truncation
  int64_t d_model = 0;
  bool per_residue = false;
  std::vector<std::pair<std::string, std::string>> text_attributes;
  std::vector<std::pair<std::string, int64_t>> integer_attributes;
};

class EmbeddingsWriter {
 public:
  // Creates the file at `path` (truncating it) with every dataset sized, and writes /ids,
  // /lengths, /fasta_lengths, /offsets and the attributes. IoError naming `where` (default: `path`;
  // the final name when `path` is a temporary one) on failure.
  EmbeddingsWriter(const std::filesystem::path& path, const EmbeddingsLayout& layout, const std::string& where = {});
  ~EmbeddingsWriter();
  EmbeddingsWriter(const EmbeddingsWriter&) = delete;
  EmbeddingsWriter& operator=(const EmbeddingsWriter&) = delete;

  // Protein `index`: mean [d] and, with per_residue, rows [lengths[index], d]; float32 CPU.
  void write(int64_t index, const torch::Tensor& mean, const torch::Tensor& residues);
  // Closes the file (where buffered data reaches the disk); IoError when that fails.
  void close();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace ankh::weights
