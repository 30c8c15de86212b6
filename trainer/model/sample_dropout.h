// Per-sample dropout: every dropout mask is a pure function of (sample key, site, element
// coordinates), so that a sample gets the same masks whichever rank holds it, whatever else is in
// its micro-batch and however far it is padded (docs/model.md, "Dropout"). The sample key is
// hash(run seed, step, global position); the site names one dropout of the network, fixed at
// construction, so activation checkpointing recomputes the same masks without replaying RNG state.
//
// The hash runs as vectorised integer tensor ops on the tensor's own device: 32-bit words held
// in int64 tensors, mixed by Wellons' lowbias32 whose every intermediate product stays below
// 2^63 in magnitude (no signed overflow anywhere; see sample_dropout.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace ankh::model {

// Where in a stack a dropout is applied. With the stack and the block index it makes a site id.
enum class DropoutPoint : uint32_t {
  Embeddings = 0,             // the stack's input embeddings (layer 0)
  Final = 1,                  // after the stack's final RMSNorm (layer 0)
  SelfAttentionWeights = 2,   // softmax weights of self-attention [B, heads, Lq, Lk]
  SelfAttentionOutput = 3,    // the self-attention sub-layer's residual update
  CrossAttentionWeights = 4,  // softmax weights of cross-attention (decoder)
  CrossAttentionOutput = 5,   // the cross-attention sub-layer's residual update
  FeedForwardInner = 6,       // the feed-forward activation before wo [B, L, d_ff]
  FeedForwardOutput = 7,      // the feed-forward sub-layer's residual update
};

// The id of one dropout site: (decoder ? 1 : 0) << 24 | layer << 4 | point. layer < 2^20.
uint32_t dropout_site(bool decoder, int64_t layer, DropoutPoint point);

// The 64-bit key of one sample: hash_words(seed, step, global position).
uint64_t sample_dropout_key(uint64_t seed, int64_t step, int64_t position);

// The dropout keys of one micro-batch: one 64-bit key per sample, as its two 32-bit halves in
// int64 tensors [B] on the model's device. Default-constructed: no keys (no dropout).
class DropoutKeys {
 public:
  DropoutKeys() = default;
  // Keys from raw 64-bit values (one asynchronous host-to-device copy of 16·B bytes).
  DropoutKeys(const std::vector<uint64_t>& keys, const torch::Device& device);
  // sample_dropout_key(seed, step, positions[i]) for each row; empty positions: rows 0..rows-1.
  static DropoutKeys for_samples(uint64_t seed, int64_t step, const std::vector<int64_t>& positions, int64_t rows,
                                 const torch::Device& device);

  bool defined() const { return low_.defined(); }
  int64_t size() const { return defined() ? low_.size(0) : 0; }
  const torch::Tensor& low() const { return low_; }
  const torch::Tensor& high() const { return high_; }

 private:
  torch::Tensor low_, high_;  // int64 [B], values in [0, 2^32)
};

// Boolean [x's shape]: true where sample_dropout keeps an element. Dimension 0 is the batch
// (keys.size() rows); the other coordinates are hashed one axis at a time, so the mask of an
// element depends on its own coordinates only, never on the tensor's padded sizes.
torch::Tensor sample_dropout_keep(at::IntArrayRef sizes, const DropoutKeys& keys, uint32_t site, double p);

// x with the elements where the hash falls below p·2^32 zeroed and the others scaled by
// 1/(1 − p). Differentiable in x; saves a boolean mask for backward.
torch::Tensor sample_dropout(const torch::Tensor& x, const DropoutKeys& keys, uint32_t site, double p);

// The scalar reference of the same hash, for tests and documentation: whether the element at
// `coords` (every coordinate but the batch's) of the sample with `key` is dropped at `site`.
bool sample_dropout_drops(uint64_t key, uint32_t site, const std::vector<int64_t>& coords, double p);

// One dropout site of a module: rate and id, fixed at construction.
struct DropoutSite {
  double p = 0.0;
  uint32_t id = 0;

  // In training with p > 0: sample_dropout(x, keys, id, p), which needs keys (T5Model supplies
  // them; a missing one throws). Otherwise x itself, at no cost.
  torch::Tensor apply(const torch::Tensor& x, const DropoutKeys& keys, bool training) const;
  bool active(bool training) const { return training && p > 0; }
};

}  // namespace ankh::model
