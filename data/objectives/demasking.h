// The single-residue masking objectives: `ankh` and `full_reconstruction` (objective.h).
// Both take one masking rate or several (multi-rate masking, as in Ankh3): with several, each
// sample draws one of them uniformly from its own stream of the sample seed, so its target
// length stays an O(1) function of (residues, sample seed).
#pragma once

#include <vector>

#include "data/objectives/objective.h"
#include "data/vocab.h"

namespace ankh::data {

// The masking rate of a sample: the only one, or one of several drawn by the sample seed.
class MaskRates {
 public:
  explicit MaskRates(std::vector<double> rates);
  double of(uint64_t sample_seed) const;
  double max() const { return max_; }

 private:
  std::vector<double> rates_;
  double max_;
};

class AnkhDemasking final : public Objective {
 public:
  explicit AnkhDemasking(std::vector<double> mask_prob) : rates_(std::move(mask_prob)) {}
  const char* name() const override { return "ankh"; }
  int64_t target_length(int64_t residues, uint64_t sample_seed) const override;
  int64_t input_length(int64_t residues, uint64_t sample_seed) const override;
  int64_t max_sentinels(int64_t residues) const override;
  void apply(TokenView residues, uint64_t sample_seed, Example& out) const override;

 private:
  MaskRates rates_;
};

class FullReconstruction final : public Objective {
 public:
  // The one mask token kind: Ankh's vocabulary has no <mask>, and <unk> already stands for
  // unknown residues in the data, so masked residues become <extra_id_0>.
  static constexpr uint8_t kMaskToken = static_cast<uint8_t>(sentinel(0));

  explicit FullReconstruction(std::vector<double> mask_prob) : rates_(std::move(mask_prob)) {}
  const char* name() const override { return "full_reconstruction"; }
  int64_t target_length(int64_t residues, uint64_t sample_seed) const override;
  int64_t input_length(int64_t residues, uint64_t sample_seed) const override;
  int64_t max_sentinels(int64_t residues) const override;
  void apply(TokenView residues, uint64_t sample_seed, Example& out) const override;

 private:
  MaskRates rates_;
};

}  // namespace ankh::data
