// The single-residue masking objectives: `ankh` and `full_reconstruction` (objective.h).
#pragma once

#include "data/objectives/objective.h"
#include "data/vocab.h"

namespace ankh::data {

class AnkhDemasking final : public Objective {
 public:
  explicit AnkhDemasking(double mask_prob) : mask_prob_(mask_prob) {}
  const char* name() const override { return "ankh"; }
  int64_t target_length(int64_t residues, uint64_t sample_seed) const override;
  int64_t input_length(int64_t residues, uint64_t sample_seed) const override;
  int64_t max_sentinels(int64_t residues) const override;
  void apply(TokenView residues, uint64_t sample_seed, Example& out) const override;

 private:
  double mask_prob_;
};

class FullReconstruction final : public Objective {
 public:
  // The one mask token kind: Ankh's vocabulary has no <mask>, and <unk> already stands for
  // unknown residues in the data, so masked residues become <extra_id_0>.
  static constexpr uint8_t kMaskToken = static_cast<uint8_t>(sentinel(0));

  explicit FullReconstruction(double mask_prob) : mask_prob_(mask_prob) {}
  const char* name() const override { return "full_reconstruction"; }
  int64_t target_length(int64_t residues, uint64_t sample_seed) const override;
  int64_t input_length(int64_t residues, uint64_t sample_seed) const override;
  int64_t max_sentinels(int64_t residues) const override;
  void apply(TokenView residues, uint64_t sample_seed, Example& out) const override;

 private:
  double mask_prob_;
};

}  // namespace ankh::data
