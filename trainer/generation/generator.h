// Decoding jobs in batches: each (seed protein, attempt) is one job with its encoder input, the
// plan of its decoder steps (infill: sentinels forced in order, one free residue after each, then
// </s>; complete: free residues until </s> or max_new) and its own random stream. Greedy and
// sampled decoding keep one hypothesis per job, beam search `beam`; the result of a job does not
// depend on the other jobs of its batch (up to float rounding of the logits).
#pragma once

#include <cstdint>
#include <vector>

#include "trainer/generation/beam_search.h"
#include "trainer/generation/generation_options.h"
#include "trainer/model/model.h"

namespace ankh::generation {

struct DecodeJob {
  std::vector<int64_t> input;  // encoder ids, ending in </s>
  int64_t sentinels = 0;       // infill: the chosen positions (the decoder writes 2·sentinels + 1 tokens)
  int64_t max_new = 0;         // complete (> 0): the most residues before </s>
  uint64_t stream = 0;         // seed of the job's SplitMix64 (sampling)
};

enum class StepKind { kForced, kFree, kDone };
struct StepPlan {
  StepKind kind = StepKind::kDone;
  int64_t token = 0;          // kForced: the token
  bool eos_allowed = false;   // kFree: </s> may be chosen too (complete)
};
// The decoder's step after `tokens` written tokens (last: the last of them, -1 for none).
StepPlan plan_step(const DecodeJob& job, int64_t written, int64_t last);

// A finished decoder output: its tokens without </s>, and scores (see Hypothesis).
struct Decoded {
  std::vector<int64_t> tokens;
  double sum_logp = 0;
  int64_t residues = 0;
  double rank = 0;
};

// Runs `jobs` through the model (on its device and dtype, no gradients), `batch_size` jobs per
// encoder/decoder pass. Per job: greedy or sampled, one output; beam search, up to `beam`
// distinct outputs, best first. Scores: log-softmax over the full vocabulary.
// incremental = false: without the decoder cache (DecodeSession), for tests.
std::vector<std::vector<Decoded>> decode_jobs(model::T5Model& model, const std::vector<DecodeJob>& jobs,
                                              const DecodingOptions& options, int64_t batch_size, bool incremental = true);

// Scores `tokens` (a complete decoder output, </s> included) for `job` by teacher forcing, as
// decode_jobs counts them: what tests compare beam search against.
Decoded score_output(model::T5Model& model, const DecodeJob& job, const std::vector<int64_t>& tokens);

}  // namespace ankh::generation
