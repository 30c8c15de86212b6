#include "trainer/model/decoder_cache.h"

#include <algorithm>

#include "core/error.h"

namespace ankh::model {

void set_rows(DecoderCache& cache, const torch::Tensor& rows) {
  if (rows.dim() != 1 || rows.scalar_type() != torch::kLong)
    throw core::Error("decoding rows must be a 1-D int64 tensor", "model::DecoderCache");
  const int64_t inputs = cache.input_rows();
  const torch::Tensor host = rows.to(torch::kCPU).contiguous();
  const int64_t n = host.size(0);
  const int64_t* r = host.data_ptr<int64_t>();
  std::vector<int64_t> count(static_cast<size_t>(inputs), 0), slot(static_cast<size_t>(n));
  int64_t groups = 1;
  for (int64_t i = 0; i < n; ++i) {
    if (r[i] < 0 || r[i] >= inputs)
      throw core::Error("decoding row " + std::to_string(i) + " names input row " + std::to_string(r[i]) +
                            " of " + std::to_string(inputs),
                        "model::DecoderCache");
    slot[static_cast<size_t>(i)] = count[static_cast<size_t>(r[i])]++;
    groups = std::max(groups, count[static_cast<size_t>(r[i])]);
  }
  // Unused slots point at row 0 (any valid row; their results are never read).
  std::vector<int64_t> index(static_cast<size_t>(inputs * groups), 0), row_slot(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t s = r[i] * groups + slot[static_cast<size_t>(i)];
    index[static_cast<size_t>(s)] = i;
    row_slot[static_cast<size_t>(i)] = s;
  }
  const auto options = torch::TensorOptions().dtype(torch::kLong);
  cache.rows = rows;
  cache.group_index = torch::tensor(index, options).view({inputs, groups}).to(rows.device());
  cache.row_slot = torch::tensor(row_slot, options).to(rows.device());
}

std::pair<torch::Tensor, torch::Tensor> append_self(DecoderCache& cache, size_t layer, const torch::Tensor& k_new,
                                                    const torch::Tensor& v_new) {
  const int64_t t = cache.length;
  torch::Tensor& k_store = cache.self_k_store[layer];
  torch::Tensor& v_store = cache.self_v_store[layer];
  if (!k_store.defined() || k_store.size(2) <= t) {
    const int64_t capacity = std::max<int64_t>(64, 2 * (t + 1));
    auto grow = [&](const torch::Tensor& store, const torch::Tensor& like) {
      torch::Tensor bigger = torch::empty({like.size(0), like.size(1), capacity, like.size(3)}, like.options());
      if (t > 0) bigger.narrow(2, 0, t).copy_(store.narrow(2, 0, t));
      return bigger;
    };
    k_store = grow(k_store, k_new);
    v_store = grow(v_store, v_new);
  }
  k_store.narrow(2, t, 1).copy_(k_new);
  v_store.narrow(2, t, 1).copy_(v_new);
  cache.self_k[layer] = k_store.narrow(2, 0, t + 1);
  cache.self_v[layer] = v_store.narrow(2, 0, t + 1);
  return {cache.self_k[layer], cache.self_v[layer]};
}

void reorder_rows(DecoderCache& cache, const torch::Tensor& keep) {
  if (keep.dim() != 1)
    throw core::Error("reorder needs a 1-D tensor of row indices", "model::DecoderCache");
  const torch::Tensor index = keep.to(cache.rows.device(), torch::kLong);
  for (size_t i = 0; i < cache.self_k.size(); ++i) {
    if (!cache.self_k_store[i].defined()) continue;
    cache.self_k_store[i] = cache.self_k_store[i].index_select(0, index);
    cache.self_v_store[i] = cache.self_v_store[i].index_select(0, index);
    cache.self_k[i] = cache.self_k_store[i].narrow(2, 0, cache.length);
    cache.self_v[i] = cache.self_v_store[i].narrow(2, 0, cache.length);
  }
  set_rows(cache, cache.rows.index_select(0, index));
}

}  // namespace ankh::model
