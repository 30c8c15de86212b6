// Activation checkpointing for one block. LibTorch's C++ API has no torch.utils.checkpoint, so
// this is the reentrant variant written as an autograd node: forward runs the block without
// recording a graph; backward re-runs it with the saved inputs (same autocast state) and
// back-propagates through that fresh graph. The block's parameters receive their gradients
// through their usual AccumulateGrad nodes, so gradient hooks (the data-parallel reducer) fire
// exactly as without checkpointing.
#pragma once

#include <functional>
#include <vector>

#include <torch/types.h>

namespace ankh::model {

// One output tensor from some input tensors (and whatever parameters the function uses).
using BlockFunction = std::function<torch::Tensor(const std::vector<torch::Tensor>&)>;

// fn(inputs), keeping only `inputs` for backward. fn must compute the same function when run
// again: it may not draw from a global generator (the model's dropout is keyed per sample,
// sample_dropout.h, and needs no RNG state replayed). Without grad mode this is just fn(inputs).
torch::Tensor checkpoint(BlockFunction fn, const std::vector<torch::Tensor>& inputs);

}  // namespace ankh::model
