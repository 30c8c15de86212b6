// Pre-training objectives (`objective.kind`): each turns one (cropped) sample into encoder input
// ids and decoder target ids, as a pure function of the sample's residues and a per-sample seed
// derived from (run seed, epoch, sample index). The same sample therefore gets the same masks
// whatever the rank count, the micro-batch split or a resume.
//
//   ankh                 round(p·L) single residues masked, each with its own sentinel numbered
//                        left to right from <extra_id_0>; target = <extra_id_0> r0 <extra_id_1> r1 … </s>
//   t5_span              T5 span corruption: round(p·L) noise residues in round(noise/mean) spans,
//                        each span one sentinel; target = <extra_id_0> span0 <extra_id_1> span1 … </s>
//   full_reconstruction  masked as in `ankh` but every mask is <extra_id_0>; target = the whole
//                        sequence + </s>
//   completion           input = the first k residues + </s>; target = the rest + </s>
//
// `ankh` and `full_reconstruction` take several masking rates (one drawn per sample); a mixture
// of tasks (mixture.h) draws each sample's task by weight and may prepend a task token.
//
// Every position (first and last included) is masked with the same probability, short
// sequences included (T5's reference code always masks the last residue and, for short inputs,
// the same residues every time); see docs/formats.md for the exact definitions.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/error.h"
#include "data/data_config.h"
#include "data/token_view.h"

namespace ankh::data {

// One sample after the objective: ids fit in a byte (Ankh's 144 and at most kMaxTaskTokens task tokens).
struct Example {
  std::vector<uint8_t> input;   // encoder ids, ending in </s>
  std::vector<uint8_t> target;  // decoder targets, ending in </s>
  int32_t task = 0;             // index of the sample's task in objective.mixture (0: a single objective)
};

class Objective {
 public:
  virtual ~Objective() = default;
  virtual const char* name() const = 0;

  // Target tokens (counting </s>) of a sample of `residues` residues: a pure function of the
  // arguments, so every rank can compute the whole global batch's loss divisor by itself.
  virtual int64_t target_length(int64_t residues, uint64_t sample_seed) const = 0;
  // Encoder tokens (counting </s>) of the same sample.
  virtual int64_t input_length(int64_t residues, uint64_t sample_seed) const = 0;
  // The most sentinels any sample of at most `residues` residues uses.
  virtual int64_t max_sentinels(int64_t residues) const = 0;
  // Builds the example (overwriting `out`, reusing its capacity).
  virtual void apply(TokenView residues, uint64_t sample_seed, Example& out) const = 0;
};

// The objective of one task (no task token: TaskMixture adds it). The config has been validated.
std::unique_ptr<const Objective> make_task_objective(const TaskConfig& task);

// InputError when a sample of `residues` residues would need `needed` > 116 sentinels.
void check_sentinels(const Objective& objective, int64_t residues, int64_t needed);

// The per-sample seed of the objective: (run seed, epoch, sample index) -> 64 bits.
uint64_t objective_seed(uint64_t seed, int64_t epoch, int64_t sample);

// Residues a sample keeps after cropping: data.max_length minus </s> and the task token if any.
int64_t max_residues(const ObjectiveConfig& objective, const DataConfig& data);

// Residues masked by `ankh` and `full_reconstruction` (and noise residues of `t5_span`) in a
// sample of `residues` residues: round(mask_prob·L) (halves away from zero) clamped to
// [1, L-1], so that every sample has something to predict and something to predict it from;
// a 1-residue sample has its residue masked.
int64_t masked_count(int64_t residues, double mask_prob);

// The checks that need both sections: every sample keeps a residue after </s> and the task token,
// and no task may need more than the 116 sentinels for a sample of max_residues() residues. Adds
// an issue per task that could (key objective.mask_prob or objective.mixture[i].mask_prob, with
// the largest mask_prob and data.max_length that would fit) to `issues`.
void validate_objective(const ObjectiveConfig& objective, const DataConfig& data, core::IssueList& issues);

}  // namespace ankh::data
