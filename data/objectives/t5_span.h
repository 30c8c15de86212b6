// `t5_span`: T5 span corruption without the reference implementation's biases.
//
// A sample of L residues gets noise = masked_count(L, density) noise residues in
// spans = clamp(round(noise / mean_span_length), 1, min(noise, L - noise)) spans. The layout is
// drawn on a circle: span lengths and the gaps between spans are uniformly random compositions
// (as in T5), and the circle is cut at a uniformly random position, so every residue, first and
// last included, is noise with probability exactly noise/L. When the cut falls inside a span,
// that span appears at both ends of the sequence and takes two sentinels. Since that happens
// with probability (noise - spans)/L whatever the layout, the decision is drawn first from its
// own stream: the target length, spans + wrapped + noise + 1, is then an O(1) function of
// (L, sample seed), which the loader needs for the loss divisor of the whole global batch.
#pragma once

#include "data/objectives/objective.h"

namespace ankh::data {

class T5SpanCorruption final : public Objective {
 public:
  T5SpanCorruption(double noise_density, double mean_span_length)
      : density_(noise_density), mean_span_(mean_span_length) {}
  const char* name() const override { return "t5_span"; }
  int64_t target_length(int64_t residues, uint64_t sample_seed) const override;
  int64_t input_length(int64_t residues, uint64_t sample_seed) const override;
  int64_t max_sentinels(int64_t residues) const override;
  void apply(TokenView residues, uint64_t sample_seed, Example& out) const override;

  // The layout sizes for a sample of `residues` residues.
  int64_t noise(int64_t residues) const;
  int64_t spans(int64_t residues) const;
  // Whether this sample's cut falls inside a span (one more sentinel).
  bool wraps(int64_t residues, uint64_t sample_seed) const;

 private:
  double density_, mean_span_;
};

}  // namespace ankh::data
