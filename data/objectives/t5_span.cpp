#include "data/objectives/t5_span.h"

#include <algorithm>
#include <cmath>

#include "core/hash.h"
#include "data/objectives/sampling.h"
#include "data/vocab.h"

namespace ankh::data {

namespace {
constexpr uint64_t kWrapStream = 0x7772617070656421ULL;  // separate stream for the wrap decision
constexpr auto kEosByte = static_cast<uint8_t>(kEos);
}  // namespace

int64_t T5SpanCorruption::noise(int64_t residues) const { return masked_count(residues, density_); }

int64_t T5SpanCorruption::spans(int64_t residues) const {
  const int64_t n = noise(residues);
  if (residues <= 1) return n;
  const auto s = static_cast<int64_t>(std::llround(static_cast<double>(n) / mean_span_));
  // Each span needs a residue, and on the circle each needs a non-noise gap after it.
  return std::clamp<int64_t>(s, 1, std::min(n, residues - n));
}

bool T5SpanCorruption::wraps(int64_t residues, uint64_t sample_seed) const {
  const int64_t interior = noise(residues) - spans(residues);  // noise residues that do not start a span
  if (interior <= 0) return false;
  core::SplitMix64 rng(core::hash_words(sample_seed, kWrapStream));
  return static_cast<int64_t>(rng.below(static_cast<uint64_t>(residues))) < interior;
}

int64_t T5SpanCorruption::target_length(int64_t residues, uint64_t sample_seed) const {
  return spans(residues) + (wraps(residues, sample_seed) ? 1 : 0) + noise(residues) + 1;
}

int64_t T5SpanCorruption::input_length(int64_t residues, uint64_t sample_seed) const {
  return residues - noise(residues) + spans(residues) + (wraps(residues, sample_seed) ? 1 : 0) + 1;
}

int64_t T5SpanCorruption::max_sentinels(int64_t residues) const {
  int64_t most = 0;
  for (int64_t n = 1; n <= residues; ++n) most = std::max(most, spans(n) + (noise(n) > spans(n) ? 1 : 0));
  return most;
}

void T5SpanCorruption::apply(TokenView residues, uint64_t sample_seed, Example& out) const {
  const int64_t n = residues.size();
  const int64_t noise_count = noise(n);
  const int64_t span_count = spans(n);
  const bool wrapped = wraps(n, sample_seed);
  check_sentinels(*this, n, span_count + (wrapped ? 1 : 0));
  core::SplitMix64 rng(sample_seed);

  // The layout on the circle, as a class per position: 0 gap, 1 span start, 2 span interior.
  thread_local std::vector<int32_t> span_lengths, gap_lengths;
  thread_local std::vector<uint8_t> layout;
  layout.assign(static_cast<std::size_t>(n), 0);
  if (n - noise_count > 0) {
    sampling::composition(rng, noise_count, span_count, span_lengths);
    sampling::composition(rng, n - noise_count, span_count, gap_lengths);
    int64_t x = 0;
    for (int64_t s = 0; s < span_count; ++s) {
      layout[static_cast<std::size_t>(x)] = 1;
      for (int32_t j = 1; j < span_lengths[static_cast<std::size_t>(s)]; ++j) layout[static_cast<std::size_t>(x + j)] = 2;
      x += span_lengths[static_cast<std::size_t>(s)] + gap_lengths[static_cast<std::size_t>(s)];
    }
  } else {
    layout[0] = 1;  // a single residue: it is the one span
  }

  // The cut: a uniformly random span interior when the sample wraps, otherwise a uniformly random
  // other position. Together with the wrap probability this is a uniform cut on the circle.
  const int64_t interior = noise_count - span_count;
  const int64_t candidates = wrapped ? interior : n - interior;
  int64_t pick = static_cast<int64_t>(rng.below(static_cast<uint64_t>(candidates)));
  int64_t cut = 0;
  for (int64_t x = 0; x < n; ++x) {
    if ((layout[static_cast<std::size_t>(x)] == 2) == wrapped && pick-- == 0) {
      cut = x;
      break;
    }
  }

  const int64_t sentinels = span_count + (wrapped ? 1 : 0);
  out.input.resize(static_cast<std::size_t>(n - noise_count + sentinels + 1));
  out.target.resize(static_cast<std::size_t>(noise_count + sentinels + 1));
  uint8_t* in = out.input.data();
  uint8_t* tg = out.target.data();
  int64_t k = 0;
  bool in_span = false;
  int64_t x = cut;
  for (int64_t y = 0; y < n; ++y) {
    const bool is_noise = layout[static_cast<std::size_t>(x)] != 0;
    if (is_noise) {
      if (!in_span) {
        const auto s = static_cast<uint8_t>(sentinel(k++));
        *in++ = s;
        *tg++ = s;
      }
      *tg++ = residues[y];
    } else {
      *in++ = residues[y];
    }
    in_span = is_noise;
    if (++x == n) x = 0;
  }
  *in = kEosByte;
  *tg = kEosByte;
}

}  // namespace ankh::data
