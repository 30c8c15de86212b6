#include "trainer/generation/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "data/vocab.h"

namespace ankh::generation {

void DecodingOptions::validate() const {
  if (temperature < 0 || !std::isfinite(temperature))
    throw core::UsageError("must be 0 (greedy) or positive", "--temperature");
  if (top_k < 0) throw core::UsageError("must be 0 (all) or positive", "--top-k");
  if (!(top_p > 0 && top_p <= 1)) throw core::UsageError("must be in (0, 1]", "--top-p");
  if (beam < 0) throw core::UsageError("must be 0 (no beam search) or positive", "--beam");
  if (beam > 0 && (temperature > 0 || top_k > 0 || top_p < 1))
    throw core::UsageError("beam search does not sample: --beam cannot be combined with --temperature, --top-k or --top-p",
                           "--beam", "drop the sampling options, or drop --beam to sample");
  if (temperature == 0 && (top_k > 0 || top_p < 1))
    throw core::UsageError("--top-k and --top-p restrict sampling, which needs a --temperature above 0",
                           top_k > 0 ? "--top-k" : "--top-p", "add --temperature 1 (or another positive value)");
}

std::vector<int64_t> residue_ids(bool allow_nonstandard) {
  const int64_t n = allow_nonstandard ? data::kNumResidues : 20;  // "ALGVSREDTIPKFQNYMHWC" come first
  std::vector<int64_t> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back(data::kFirstResidue + i);
  return ids;
}

double log_normaliser(const float* logits, int64_t n) {
  double top = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) top = std::max(top, static_cast<double>(logits[i]));
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - top);
  return top + std::log(sum);
}

int64_t choose_token(const float* logits, const std::vector<int64_t>& allowed, const DecodingOptions& o,
                     core::SplitMix64& rng) {
  if (!o.sampling()) {
    int64_t best = allowed.front();
    for (const int64_t t : allowed)
      if (logits[t] > logits[best] || (logits[t] == logits[best] && t < best)) best = t;
    return best;
  }
  // Largest first, ties by id: the order top-k and top-p cut in.
  std::vector<int64_t> order(allowed);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  if (o.top_k > 0 && static_cast<int64_t>(order.size()) > o.top_k) order.resize(static_cast<std::size_t>(o.top_k));
  const double top = static_cast<double>(logits[order.front()]) / o.temperature;
  std::vector<double> p(order.size());
  double sum = 0;
  for (std::size_t i = 0; i < order.size(); ++i) sum += p[i] = std::exp(static_cast<double>(logits[order[i]]) / o.temperature - top);
  std::size_t keep = order.size();
  if (o.top_p < 1) {
    double cumulative = 0;
    for (std::size_t i = 0; i < order.size(); ++i) {
      cumulative += p[i] / sum;
      if (cumulative >= o.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  double kept = 0;
  for (std::size_t i = 0; i < keep; ++i) kept += p[i];
  double u = rng.uniform() * kept;
  for (std::size_t i = 0; i < keep; ++i) {
    if (u < p[i]) return order[i];
    u -= p[i];
  }
  return order[keep - 1];  // rounding at the very top of the range
}

}  // namespace ankh::generation
