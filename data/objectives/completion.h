// `completion`: sequence completion (as in Ankh3's sequence-to-sequence task). The encoder reads
// the first k residues of a sample and </s>; the decoder writes the remaining L - k residues and
// </s>, so input and target without their </s> rebuild the sample exactly.
//
// k is round(f·L) (halves away from zero) for a prefix fraction f that is fixed or drawn
// uniformly from [lo, hi] per sample, or a fixed prefix_length; either way clamped to [1, L-1]
// so that both parts hold a residue. A 1-residue sample has an empty prefix (the encoder reads
// </s> alone) and the decoder writes its residue.
#pragma once

#include <vector>

#include "data/objectives/objective.h"

namespace ankh::data {

class SequenceCompletion final : public Objective {
 public:
  // `prefix_fraction`: {f} or {lo, hi}; `prefix_length` > 0 replaces it.
  SequenceCompletion(std::vector<double> prefix_fraction, int64_t prefix_length);
  const char* name() const override { return "completion"; }
  int64_t target_length(int64_t residues, uint64_t sample_seed) const override;
  int64_t input_length(int64_t residues, uint64_t sample_seed) const override;
  int64_t max_sentinels(int64_t) const override { return 0; }
  void apply(TokenView residues, uint64_t sample_seed, Example& out) const override;

  // Residues the encoder reads in a sample of `residues` residues.
  int64_t prefix(int64_t residues, uint64_t sample_seed) const;

 private:
  double lo_, hi_;
  int64_t fixed_length_;
};

}  // namespace ankh::data
