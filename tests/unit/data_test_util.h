// Helpers for the data pipeline tests: random proteins, FASTA files, small datasets.
#pragma once

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "data/preprocess.h"
#include "data/vocab.h"

namespace ankh::testing {

struct Protein {
  std::string id;
  std::string sequence;  // upper-case letters of the vocabulary
};

inline std::string random_residues(std::mt19937_64& rng, int64_t length) {
  // The 20 standard amino acids plus the rare letters of Ankh's vocabulary.
  static const std::string letters = "ALGVSREDTIPKFQNYMHWCXBOUZ";
  std::uniform_int_distribution<std::size_t> pick(0, letters.size() - 1);
  std::string s(static_cast<std::size_t>(length), 'A');
  for (auto& c : s) c = letters[pick(rng)];
  return s;
}

// `n` proteins with distinct ids and lengths in [min_length, max_length].
inline std::vector<Protein> random_proteins(int64_t n, uint64_t seed, int64_t min_length = 1, int64_t max_length = 400) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> len(min_length, max_length);
  std::vector<Protein> out;
  for (int64_t i = 0; i < n; ++i)
    out.push_back({"P" + std::to_string(seed) + "_" + std::to_string(i), random_residues(rng, len(rng))});
  return out;
}

inline std::string fasta_text(const std::vector<Protein>& proteins, std::size_t width = 60, const char* eol = "\n") {
  std::string text;
  for (const auto& p : proteins) {
    text += ">" + p.id + " some description" + eol;
    for (std::size_t i = 0; i < p.sequence.size(); i += width) text += p.sequence.substr(i, width) + eol;
  }
  return text;
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// Preprocesses `proteins` into `dir` (quietly) and returns the result.
inline data::PreprocessResult make_dataset(const std::filesystem::path& dir, const std::vector<Protein>& proteins,
                                           double valid_fraction = 0.1, int64_t shard_sequences = 0, int threads = 1) {
  const auto fasta = dir.parent_path() / (dir.filename().string() + ".fasta");
  write_bytes(fasta, fasta_text(proteins));
  data::PreprocessOptions o;
  o.inputs = {fasta};
  o.output = dir;
  o.valid_fraction = valid_fraction;
  o.shard_sequences = shard_sequences;
  o.threads = threads;
  o.progress = false;
  return data::preprocess(o);
}

inline std::string letters(const std::vector<int64_t>& ids) { return data::decode(ids); }

}  // namespace ankh::testing
