// Incremental decoding (docs/model.md, "Incremental decoding"): the state that lets the decoder
// take one token per row and step instead of re-running the whole prefix. Per decoder layer it
// holds the self-attention keys/values of the positions fed so far and the cross-attention
// keys/values of each INPUT row, computed once by T5Model::start_decoding and shared by every
// step and by every decoding row (sample, beam) of that input. Eval mode, no autograd.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace ankh::model {

struct DecoderCache {
  std::vector<torch::Tensor> self_k, self_v;    // per layer [N, heads, t, d_kv] (views of the stores)
  std::vector<torch::Tensor> cross_k, cross_v;  // per layer [B, heads, Le, d_kv] (per input row)
  torch::Tensor memory_bias;                    // [B, 1, 1, Le] additive encoder padding mask
  torch::Tensor rows;                           // [N] int64: the input row of each decoding row
  int64_t length = 0;                           // decoder positions fed so far (t)

  // Internal, maintained by start_decoding / decode_step / reorder (set_rows):
  // self_k_store/self_v_store: per layer [N, heads, capacity, d_kv], self_k/v are their first t
  // positions (appending a position writes in place instead of copying the whole cache).
  std::vector<torch::Tensor> self_k_store, self_v_store;
  // Cross-attention runs per input: the queries of the rows of input b are gathered into
  // [B, G] slots (G: the most rows any input has), attend to that input's keys once, and
  // row n reads its result back from slot row_slot[n]. group_index [B, G] (int64, into the N
  // rows; unused slots repeat a valid row), row_slot [N] (int64, into the B x G slots).
  torch::Tensor group_index, row_slot;

  int64_t decoding_rows() const { return rows.defined() ? rows.size(0) : 0; }
  int64_t input_rows() const { return memory_bias.defined() ? memory_bias.size(0) : 0; }
};

// Sets cache.rows and the grouping derived from it (group_index, row_slot). rows [N] int64 with
// values in [0, B); one host read of rows (at start and reorder only, never per step).
void set_rows(DecoderCache& cache, const torch::Tensor& rows);

// Appends k_new, v_new [N, heads, 1, d_kv] at position cache.length of layer `layer`'s
// self-attention cache (growing its store geometrically) and returns the keys/values of
// positions 0..length, [N, heads, length+1, d_kv]. Does not advance cache.length.
std::pair<torch::Tensor, torch::Tensor> append_self(DecoderCache& cache, size_t layer, const torch::Tensor& k_new,
                                                    const torch::Tensor& v_new);

// Keeps decoding rows `keep` [M] (int64 indices into the N rows, repeats allowed): rows, the
// self-attention caches and the grouping follow; the cross-attention keys/values (per input) stay.
void reorder_rows(DecoderCache& cache, const torch::Tensor& keep);

}  // namespace ankh::model
