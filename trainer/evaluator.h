// Validation on the valid split, shared across ranks: the first `train.eval_batches` global
// batches of the valid order (the same every time, whatever the rank count), each rank
// computing its part, the sums all-reduced once.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "data/dataset.h"
#include "trainer/parallel/communicator.h"
#include "trainer/model/model.h"
#include "trainer/metrics/records.h"
#include "trainer/run_config.h"

namespace ankh::trainer {

struct EvalResult {
  double loss = 0;          // mean cross-entropy over every target token (sentinels and </s> too)
  double residue_loss = 0;  // mean cross-entropy over target tokens that are amino acids
  double accuracy = 0;      // argmax == label over those amino-acid positions
  double perplexity = 0;    // exp(loss)
  int64_t target_tokens = 0;
  int64_t residue_tokens = 0;
  std::vector<metrics::TaskRecord> tasks;  // objective mixtures: the same per task, in mixture order

  // As a metrics.jsonl "valid" record of `step`, with the tokens seen by then and the unigram
  // entropy to compare the residue loss with.
  metrics::ValidRecord record(int64_t step, int64_t tokens, double unigram_entropy) const;
};

// Runs the model in eval mode without gradients and restores train mode. Collective.
EvalResult evaluate(model::T5Model& model, const std::shared_ptr<const data::Dataset>& dataset,
                    const RunConfig& config, parallel::Communicator& comm, const torch::Device& device);

// Entropy (nats) of the amino-acid frequencies of the train split: the loss of a model that knows
// nothing but those frequencies. From the manifest's composition (no token read); a manifest of
// an older ankh has none, and then it is estimated from 10,000 sequences spread over the split.
double unigram_entropy(const data::Dataset& dataset);

}  // namespace ankh::trainer
