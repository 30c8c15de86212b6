#include "trainer/probe/go_transfer.h"

#include <algorithm>
#include <string>

#include <torch/torch.h>

#include "core/error.h"
#include "core/strings.h"

namespace ankh::probe {

namespace {

constexpr const char* kWhere = "annotation transfer";

torch::Tensor as_matrix(const torch::Tensor& t, const char* what) {
  if (!t.defined() || t.dim() != 2 || !t.is_floating_point())
    throw core::InputError(std::string(what) + " embeddings must be a 2-D floating-point tensor, got " +
                               (t.defined() ? core::shape_text(t.sizes().vec()) : std::string("none")),
                           kWhere);
  return t.to(torch::kCPU, torch::kFloat32).contiguous();
}

// Rows of queries per chunk, so that a [rows, n] float32 block stays under `bytes`.
int64_t chunk_rows(int64_t n, int64_t bytes) {
  return std::max<int64_t>(1, bytes / (std::max<int64_t>(1, n) * static_cast<int64_t>(sizeof(float))));
}

// The k nearest by squared distance from ||q||² + ||l||² - 2 q·l (one matrix product per
// chunk), then the exact distances of just those k, recomputed directly: the expansion loses
// precision for near neighbours, which are the ones that matter.
Neighbours euclidean_chunk(const torch::Tensor& lookup, const torch::Tensor& lookup_sq, const torch::Tensor& q, int64_t k) {
  torch::Tensor d2 = torch::addmm(lookup_sq.unsqueeze(0), q, lookup.t(), /*beta=*/1, /*alpha=*/-2);
  d2.add_((q * q).sum(1, /*keepdim=*/true));
  const auto top = d2.topk(k, /*dim=*/1, /*largest=*/false, /*sorted=*/true);
  const torch::Tensor index = std::get<1>(top);
  const torch::Tensor picked = lookup.index_select(0, index.reshape({-1})).view({q.size(0), k, q.size(1)});
  const torch::Tensor distance = (picked - q.unsqueeze(1)).norm(2, /*dim=*/{2});
  return {index, 0.5 / (0.5 + distance)};
}

Neighbours cosine_chunk(const torch::Tensor& lookup_unit, const torch::Tensor& q, int64_t k) {
  const torch::Tensor q_unit = q / q.norm(2, {1}, /*keepdim=*/true).clamp_min(1e-12);
  const auto top = torch::mm(q_unit, lookup_unit.t()).topk(k, /*dim=*/1, /*largest=*/true, /*sorted=*/true);
  return {std::get<1>(top), std::get<0>(top).clamp(0, 1)};
}

}  // namespace

const core::Choices<Distance>& distances() {
  static const core::Choices<Distance> table{{Distance::Euclidean, "euclidean"}, {Distance::Cosine, "cosine"}};
  return table;
}

Neighbours nearest_neighbours(const torch::Tensor& lookup_in, const torch::Tensor& queries_in, const TransferOptions& options) {
  const torch::Tensor lookup = as_matrix(lookup_in, "lookup");
  const torch::Tensor queries = as_matrix(queries_in, "query");
  if (lookup.size(1) != queries.size(1))
    throw core::InputError("lookup embeddings have width " + std::to_string(lookup.size(1)) + " but query embeddings " +
                               std::to_string(queries.size(1)),
                           kWhere, "embed both sets with the same model");
  if (options.k < 1) throw core::InputError("k must be at least 1, got " + std::to_string(options.k), kWhere);
  const int64_t n = lookup.size(0), m = queries.size(0), k = std::min(options.k, n);
  torch::NoGradGuard no_grad;
  if (k == 0) return {torch::empty({m, 0}, torch::kInt64), torch::empty({m, 0}, torch::kFloat32)};

  const bool cosine = options.distance == Distance::Cosine;
  const torch::Tensor prepared =
      cosine ? lookup / lookup.norm(2, {1}, /*keepdim=*/true).clamp_min(1e-12) : (lookup * lookup).sum(1);
  std::vector<torch::Tensor> indices, scores;
  const int64_t rows = chunk_rows(n, options.chunk_bytes);
  for (int64_t start = 0; start < m; start += rows) {
    const torch::Tensor q = queries.narrow(0, start, std::min(rows, m - start));
    const Neighbours part = cosine ? cosine_chunk(prepared, q, k) : euclidean_chunk(lookup, prepared, q, k);
    indices.push_back(part.index);
    scores.push_back(part.score);
  }
  if (indices.empty()) return {torch::empty({0, k}, torch::kInt64), torch::empty({0, k}, torch::kFloat32)};
  return {torch::cat(indices), torch::cat(scores).contiguous()};
}

std::vector<Prediction> transfer_from_neighbours(const Neighbours& neighbours, const std::vector<TermSet>& lookup_terms) {
  const torch::Tensor index = neighbours.index.to(torch::kCPU, torch::kInt64).contiguous();
  const torch::Tensor score = neighbours.score.to(torch::kCPU, torch::kFloat32).contiguous();
  const auto idx = index.accessor<int64_t, 2>();
  const auto sc = score.accessor<float, 2>();
  std::vector<Prediction> out(static_cast<std::size_t>(index.size(0)));
  for (int64_t q = 0; q < index.size(0); ++q) {
    Prediction& prediction = out[static_cast<std::size_t>(q)];
    for (int64_t j = 0; j < index.size(1); ++j) {
      const int64_t i = idx[q][j];
      if (i < 0 || i >= static_cast<int64_t>(lookup_terms.size()))
        throw core::InputError("neighbour " + std::to_string(i) + " is not a lookup protein (there are " +
                                   std::to_string(lookup_terms.size()) + ")",
                               kWhere);
      for (TermId t : lookup_terms[static_cast<std::size_t>(i)]) prediction.push_back({t, sc[q][j]});
    }
    keep_best_scores(prediction);
  }
  return out;
}

std::vector<Prediction> transfer_annotations(const torch::Tensor& lookup, const torch::Tensor& queries,
                                             const std::vector<TermSet>& lookup_terms, const TransferOptions& options) {
  if (lookup.defined() && lookup.dim() >= 1 && lookup.size(0) != static_cast<int64_t>(lookup_terms.size()))
    throw core::InputError(std::to_string(lookup.size(0)) + " lookup embeddings but " + std::to_string(lookup_terms.size()) +
                               " lookup term sets",
                           kWhere, "lookup_terms[i] annotates lookup row i");
  return transfer_from_neighbours(nearest_neighbours(lookup, queries, options), lookup_terms);
}

Prediction naive_prediction(const std::vector<TermSet>& lookup_terms) {
  std::vector<int64_t> counts;
  for (const TermSet& terms : lookup_terms)
    for (TermId t : terms) {
      if (static_cast<std::size_t>(t) >= counts.size()) counts.resize(static_cast<std::size_t>(t) + 1, 0);
      ++counts[static_cast<std::size_t>(t)];
    }
  Prediction out;
  const auto n = static_cast<double>(lookup_terms.size());
  for (std::size_t t = 0; t < counts.size(); ++t)
    if (counts[t] > 0) out.push_back({static_cast<TermId>(t), static_cast<float>(static_cast<double>(counts[t]) / n)});
  return out;
}

}  // namespace ankh::probe
