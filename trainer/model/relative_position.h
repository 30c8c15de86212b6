// T5's relative position buckets (Raffel et al. 2020), exactly as Hugging Face's
// T5Attention._relative_position_bucket computes them, so that exported models give the same
// attention bias there.
#pragma once

#include <cstdint>

#include <torch/types.h>

namespace ankh::model {

// Bucket of each relative position (key index - query index), int64, same shape.
//  bidirectional (encoder): half the buckets for keys after the query (relative > 0), half for
//    the rest; causal (decoder): keys after the query all fall in bucket 0 (they are masked).
//  Within a half, distances below num_buckets/4 (bidirectional) or num_buckets/2 (causal) get
//  one bucket each; larger ones share log-spaced buckets up to max_distance; everything beyond
//  lands in the last bucket of its half.
torch::Tensor relative_position_bucket(const torch::Tensor& relative_position, bool bidirectional,
                                       int64_t num_buckets, int64_t max_distance);

// [query_len, key_len] int64 tensor of key - query, on `device`.
torch::Tensor relative_positions(int64_t query_len, int64_t key_len, const torch::Device& device);

}  // namespace ankh::model
