// Embedding-based annotation transfer as in goPredSim (Littmann et al., 2021): a query protein
// takes the GO terms of its nearest lookup proteins in embedding space, scored by closeness; and
// CAFA's naive baseline, which predicts every term with its frequency among the lookup proteins.
// Both return predictions that fmax() scores directly.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "core/choices.h"
#include "trainer/probe/fmax.h"
#include "trainer/probe/go_graph.h"

namespace ankh::probe {

enum class Distance {
  Euclidean,  // score 0.5 / (0.5 + d), goPredSim's choice
  Cosine,     // score = cosine similarity, clamped to [0, 1]
};
const core::Choices<Distance>& distances();  // euclidean | cosine
inline const char* name_of(Distance d) { return distances().name(d); }

struct TransferOptions {
  int64_t k = 1;                      // neighbours per query (at most the lookup size is used)
  Distance distance = Distance::Euclidean;
  int64_t chunk_bytes = 256 << 20;    // bound on the query-by-lookup score block held at once
};

// The k nearest lookup rows of every query, best first: index [M, k] int64 and score [M, k]
// float32 (the transfer score above, not the distance). Embeddings are [N, D] and [M, D]
// floating point on the CPU (converted to float32); queries go through in chunks of rows so
// that one chunk's [rows, N] block stays under `chunk_bytes`. InputError for tensors that are
// not 2-D or whose widths differ, and for k < 1.
struct Neighbours {
  torch::Tensor index;
  torch::Tensor score;
};
Neighbours nearest_neighbours(const torch::Tensor& lookup, const torch::Tensor& queries, const TransferOptions& options);

// goPredSim: each query gets the terms of its k nearest lookup proteins, every term scored with
// the best score of the neighbours that have it. `lookup_terms[i]` are the terms of lookup row i,
// already propagated (then the predictions are too: a neighbour with a term has its ancestors).
// One Prediction per query row, sorted by term. InputError when lookup_terms and the lookup rows
// differ in number.
std::vector<Prediction> transfer_annotations(const torch::Tensor& lookup, const torch::Tensor& queries,
                                             const std::vector<TermSet>& lookup_terms, const TransferOptions& options);

// The same transfer from neighbours found elsewhere (index [M, k] into lookup_terms, score [M, k]).
std::vector<Prediction> transfer_from_neighbours(const Neighbours& neighbours, const std::vector<TermSet>& lookup_terms);

// CAFA's naive baseline: every term of the (propagated) lookup sets, scored with the fraction of
// lookup proteins that have it; the same prediction for every query. Sorted by term.
Prediction naive_prediction(const std::vector<TermSet>& lookup_terms);

}  // namespace ankh::probe
