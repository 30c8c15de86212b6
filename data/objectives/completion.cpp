#include "data/objectives/completion.h"

#include <algorithm>
#include <cmath>

#include "core/hash.h"
#include "data/vocab.h"

namespace ankh::data {

namespace {
constexpr auto kEosByte = static_cast<uint8_t>(kEos);
}  // namespace

SequenceCompletion::SequenceCompletion(std::vector<double> prefix_fraction, int64_t prefix_length)
    : lo_(prefix_fraction.empty() ? 0.5 : prefix_fraction.front()),
      hi_(prefix_fraction.empty() ? 0.5 : prefix_fraction.back()),
      fixed_length_(prefix_length) {}

int64_t SequenceCompletion::prefix(int64_t residues, uint64_t sample_seed) const {
  if (residues <= 1) return 0;
  int64_t k = fixed_length_;
  if (k <= 0) {
    double f = lo_;
    if (hi_ > lo_) {
      core::SplitMix64 rng(sample_seed);
      f = lo_ + (hi_ - lo_) * rng.uniform();
    }
    k = static_cast<int64_t>(std::llround(f * static_cast<double>(residues)));
  }
  return std::clamp<int64_t>(k, 1, residues - 1);
}

int64_t SequenceCompletion::target_length(int64_t residues, uint64_t sample_seed) const {
  return residues - prefix(residues, sample_seed) + 1;
}

int64_t SequenceCompletion::input_length(int64_t residues, uint64_t sample_seed) const {
  return prefix(residues, sample_seed) + 1;
}

void SequenceCompletion::apply(TokenView residues, uint64_t sample_seed, Example& out) const {
  const int64_t n = residues.size();
  const int64_t k = prefix(n, sample_seed);
  out.input.assign(residues.begin(), residues.begin() + k);
  out.input.push_back(kEosByte);
  out.target.assign(residues.begin() + k, residues.end());
  out.target.push_back(kEosByte);
}

}  // namespace ankh::data
