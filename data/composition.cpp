#include "data/composition.h"

#include <cmath>

#include "data/vocab.h"

namespace ankh::data {

static_assert(kUnk == 2 && kFirstResidue == kUnk + 1 && Composition::kSize == kNumResidues + 1,
              "Composition indexes stored tokens as id - <unk>");

int64_t Composition::total() const {
  int64_t n = 0;
  for (int64_t c : counts) n += c;
  return n;
}

Composition& Composition::operator+=(const Composition& other) {
  for (int k = 0; k < kSize; ++k) counts[static_cast<std::size_t>(k)] += other.counts[static_cast<std::size_t>(k)];
  return *this;
}

double Composition::unigram_entropy() const {
  int64_t residues = 0;
  for (int k = 1; k < kSize; ++k) residues += counts[static_cast<std::size_t>(k)];
  if (residues == 0) return std::nan("");
  double h = 0;
  for (int k = 1; k < kSize; ++k) {
    const int64_t c = counts[static_cast<std::size_t>(k)];
    if (c == 0) continue;
    const double p = static_cast<double>(c) / static_cast<double>(residues);
    h -= p * std::log(p);
  }
  return h;
}

TokenCount count_tokens(const uint8_t* tokens, int64_t size, Composition& into) {
  // A histogram over all 256 byte values first: no branch in the loop, and four interleaved
  // tables so that runs of one residue do not serialise on one counter; memory speed.
  std::array<std::array<int64_t, 256>, 4> part{};
  int64_t i = 0;
  for (; i + 4 <= size; i += 4) {
    ++part[0][tokens[i]];
    ++part[1][tokens[i + 1]];
    ++part[2][tokens[i + 2]];
    ++part[3][tokens[i + 3]];
  }
  for (; i < size; ++i) ++part[0][tokens[i]];
  TokenCount result;
  for (std::size_t v = 0; v < 256; ++v) {
    const int64_t n = part[0][v] + part[1][v] + part[2][v] + part[3][v];
    if (is_stored_token(static_cast<uint8_t>(v)))
      into.counts[v - static_cast<std::size_t>(kUnk)] += n;
    else
      result.invalid += n;
  }
  if (result.invalid > 0)
    for (int64_t j = 0; j < size && result.first_invalid < 0; ++j)
      if (!is_stored_token(tokens[j])) result.first_invalid = j;
  return result;
}

std::string composition_key(int k) { return token_name(kUnk + k); }

int composition_index(const std::string& key) {
  for (int k = 0; k < Composition::kSize; ++k)
    if (composition_key(k) == key) return k;
  return -1;
}

}  // namespace ankh::data
