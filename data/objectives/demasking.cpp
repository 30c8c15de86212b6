// `ankh` (1-gram partial demasking) and `full_reconstruction`: both mask single residues chosen
// uniformly (an exact-size random subset), and differ only in the mask tokens and the target.
#include "data/objectives/demasking.h"

#include <algorithm>

#include "core/error.h"
#include "core/hash.h"
#include "data/objectives/sampling.h"
#include "data/vocab.h"

namespace ankh::data {

namespace {
constexpr auto kEosByte = static_cast<uint8_t>(kEos);
constexpr uint64_t kRateStream = 0x6D61736B72617465ULL;  // "maskrate": the rate draw's own stream
}  // namespace

MaskRates::MaskRates(std::vector<double> rates) : rates_(std::move(rates)) {
  if (rates_.empty()) throw core::Error("no masking rate", "objective.mask_prob");  // the config reader refuses []
  max_ = *std::max_element(rates_.begin(), rates_.end());
}

double MaskRates::of(uint64_t sample_seed) const {
  // One rate: no draw, so a single-rate objective masks exactly as before multi-rate existed.
  if (rates_.size() == 1) return rates_[0];
  core::SplitMix64 rng(core::hash_words(sample_seed, kRateStream));
  return rates_[rng.below(rates_.size())];
}

int64_t AnkhDemasking::target_length(int64_t residues, uint64_t sample_seed) const {
  return 2 * masked_count(residues, rates_.of(sample_seed)) + 1;
}

int64_t AnkhDemasking::input_length(int64_t residues, uint64_t) const { return residues + 1; }

int64_t AnkhDemasking::max_sentinels(int64_t residues) const { return masked_count(residues, rates_.max()); }

void AnkhDemasking::apply(TokenView residues, uint64_t sample_seed, Example& out) const {
  const int64_t n = residues.size();
  const int64_t m = masked_count(n, rates_.of(sample_seed));
  check_sentinels(*this, n, m);
  out.input.resize(static_cast<std::size_t>(n + 1));
  out.target.resize(static_cast<std::size_t>(2 * m + 1));
  uint8_t* in = out.input.data();
  uint8_t* tg = out.target.data();
  core::SplitMix64 rng(sample_seed);
  int64_t k = 0;
  sampling::select(rng, n, m, [&](int64_t i, bool masked) {
    const uint8_t r = residues[i];
    if (masked) {
      const auto s = static_cast<uint8_t>(sentinel(k++));
      in[i] = s;
      *tg++ = s;
      *tg++ = r;
    } else {
      in[i] = r;
    }
  });
  in[n] = kEosByte;
  *tg = kEosByte;
}

int64_t FullReconstruction::target_length(int64_t residues, uint64_t) const { return residues + 1; }

int64_t FullReconstruction::input_length(int64_t residues, uint64_t) const { return residues + 1; }

int64_t FullReconstruction::max_sentinels(int64_t) const { return 1; }

void FullReconstruction::apply(TokenView residues, uint64_t sample_seed, Example& out) const {
  const int64_t n = residues.size();
  const int64_t m = masked_count(n, rates_.of(sample_seed));
  out.input.resize(static_cast<std::size_t>(n + 1));
  out.target.assign(residues.begin(), residues.end());
  out.target.push_back(kEosByte);
  uint8_t* in = out.input.data();
  core::SplitMix64 rng(sample_seed);
  sampling::select(rng, n, m, [&](int64_t i, bool masked) { in[i] = masked ? kMaskToken : residues[i]; });
  in[n] = kEosByte;
}

}  // namespace ankh::data
