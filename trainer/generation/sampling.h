// Choosing one token from a row of logits: the allowed set (residues, optionally </s>), greedy or
// sampled with temperature, top-k and top-p, from the caller's random stream; and the model's
// own log-probabilities (log-softmax over the full vocabulary, in double precision).
#pragma once

#include <cstdint>
#include <vector>

#include "core/hash.h"
#include "trainer/generation/generation_options.h"

namespace ankh::generation {

// The 20 standard amino acids' ids (A L G V S R E D T I P K F Q N Y M H W C: 3..22), or with
// allow_nonstandard all 25 residue ids (X B O U Z too), ascending.
std::vector<int64_t> residue_ids(bool allow_nonstandard);

// log(sum(exp(logits))) of a row of n logits, in double: logp(token) = logits[token] - this.
double log_normaliser(const float* logits, int64_t n);

// One of `allowed` (non-empty): greedy (temperature 0) the one with the largest logit (ties to
// the smaller id); otherwise sampled from softmax(logits / temperature) over `allowed`, restricted
// to the top_k largest (ties by id) and then to the smallest prefix whose probability reaches
// top_p. Sampling draws exactly one number from `rng`; greedy draws none.
int64_t choose_token(const float* logits, const std::vector<int64_t>& allowed, const DecodingOptions& options,
                     core::SplitMix64& rng);

}  // namespace ankh::generation
