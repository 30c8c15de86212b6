// The hypotheses of one decoding job and the selection among their one-token extensions: what
// beam search keeps of them (the `width` best by score) and when a job is finished.
#pragma once

#include <cstdint>
#include <vector>

namespace ankh::generation {

// A partial (or, ending in </s>, finished) decoder output.
struct Hypothesis {
  std::vector<int64_t> tokens;  // written so far (sentinels, residues, </s>)
  double sum_logp = 0;          // of the generated residues (the reported score)
  int64_t residues = 0;         // generated residues counted in sum_logp
  double rank = 0;              // what beam search maximises: sum_logp, plus </s>'s in --mode complete
};

// One extension of the live hypothesis in `row` by `token`, with its scores after it.
struct Expansion {
  int64_t row = 0;
  int64_t token = 0;
  double sum_logp = 0;
  int64_t residues = 0;
  double rank = 0;
};

// The `width` best expansions by rank (descending), ties by row then token (ascending): a total
// order, so the selection does not depend on the order the candidates were listed in.
std::vector<Expansion> best_expansions(std::vector<Expansion> candidates, int64_t width);

// Finished hypotheses best first (rank descending, ties by tokens ascending), at most `width`.
void sort_finished(std::vector<Hypothesis>& finished, int64_t width);

// Whether a job can stop: it has `width` finished hypotheses and no live one can still beat the
// worst of them (log-probabilities are <= 0, so ranks only fall). `finished` sorted (sort_finished).
bool beam_settled(const std::vector<Hypothesis>& finished, double best_live_rank, int64_t width);

}  // namespace ankh::generation
