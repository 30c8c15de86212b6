// Data-parallel gradient synchronisation: our DistributedDataParallel (LibTorch has none in C++).
// Models: PyTorch DDP's Reducer (gradient_as_bucket_view, static_graph) and flashlight's
// coalescing reducer.
//
// - Every trainable parameter's gradient is a VIEW into a flat bucket buffer (grad_buckets.h), so
//   autograd accumulates straight into the buckets: no packing or unpacking copies.
// - A post-hook on each parameter's AccumulateGrad node counts its gradient as ready. When the
//   last gradient of a bucket is ready, that bucket's all-reduce starts asynchronously while
//   backward carries on with earlier layers. Buckets are launched strictly in index order, so
//   every rank issues the same collectives in the same order whatever order hooks fire in.
// - How many times each parameter's hook fires in one backward is learnt from the first backward
//   (like DDP's static_graph): activation checkpointing can fire a hook during recomputation, or
//   more than once for a parameter used by several checkpointed segments; a parameter that gets
//   no gradient keeps its bucket until finish(). No bucket is launched during the first backward.
// - Gradient accumulation: begin_micro_batch(false) before the backward of a non-final
//   micro-batch (no communication at all: gradients just accumulate in the buckets),
//   begin_micro_batch(true) before the last one, then finish() before clipping and the optimizer.
// - Gradients are SUMMED over ranks, not averaged: the trainer divides the loss by the number of
//   target tokens in the whole global batch, so the sum is the gradient of the global loss.
//
// A step:   zero_grad(); for each micro-batch m { begin_micro_batch(m == last); loss.backward(); }
//           finish(); clip; optimizer.step();
// Use GradSync::zero_grad(), never optimizer.zero_grad(): the latter may set gradients to None
// (LibTorch 2.x), which unbinds them from the buckets (detected and repaired, at the cost of a copy).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "trainer/parallel/communicator.h"
#include "trainer/parallel/dist_config.h"
#include "trainer/parallel/grad_buckets.h"

namespace ankh::parallel {

struct GradSyncStats {
  int buckets = 0;               // all-reduces in the last finish()
  int launched_in_backward = 0;  // of which were started by hooks during backward
  int64_t bytes = 0;             // bytes all-reduced (per rank)
  double finish_seconds = 0;     // host time spent in finish(): the communication backward did not hide
};

class GradSync {
 public:
  // `named_params` in registration (forward) order; those that do not require grad are left out
  // of the buckets. Each must be a leaf tensor on `comm`'s device. Existing gradients are copied
  // into the buckets.
  GradSync(std::vector<std::pair<std::string, torch::Tensor>> named_params, Communicator& comm,
           const DistConfig& config);
  ~GradSync();
  GradSync(const GradSync&) = delete;
  GradSync& operator=(const GradSync&) = delete;

  // Call before each micro-batch's backward; sync=false on non-final accumulation micro-batches.
  // After finish() the next micro-batch is a sync one unless told otherwise.
  void begin_micro_batch(bool sync);
  // Waits for every bucket's all-reduce (launching those not launched yet, in order). On NCCL the
  // host does not wait: the compute stream is ordered after the collectives.
  void finish();
  // Zeroes the gradient buffers; gradients stay views into them.
  void zero_grad();
  // Every rank gets `root`'s values of every parameter given to the constructor (trainable or
  // not), in buckets. Collective; call it once at the start of training.
  void broadcast_parameters(int root = 0);

  const GradSyncStats& last_stats() const { return stats_; }
  double last_comm_seconds() const { return stats_.finish_seconds; }

  // Introspection (tests, benchmarks, logs).
  const std::vector<BucketLayout>& layout() const { return layout_; }
  const torch::Tensor& bucket_buffer(std::size_t bucket) const { return buffers_.at(bucket); }
  // Buckets whose all-reduce has started in the current sync micro-batch.
  int launched_buckets() const;
  // Names of the trainable parameters, in the order of the index in BucketSlot::param.
  const std::vector<std::string>& names() const { return names_; }

 private:
  struct ReadyHook;
  friend struct ReadyHook;

  void on_gradient_ready(std::size_t param);  // from autograd (any thread)
  // Makes params_[i].grad() the view into its bucket again, keeping its value, if something
  // (optimizer.zero_grad(set_to_none), create_graph) replaced it.
  void bind_gradient(std::size_t i);
  void learn_hook_counts();
  void reset_micro_batch(bool sync);
  void launch_ready_buckets();  // in index order, from next_launch_
  void launch(std::size_t bucket, bool from_hook);

  Communicator& comm_;
  bool overlap_;
  std::vector<std::string> names_;
  std::vector<torch::Tensor> params_;      // trainable
  std::vector<torch::Tensor> all_params_;  // everything given, for broadcast_parameters
  int64_t bucket_bytes_;
  std::vector<BucketLayout> layout_;
  std::vector<torch::Tensor> buffers_;       // one flat buffer per bucket
  std::vector<torch::Tensor> views_;         // per parameter: its gradient's view into its bucket
  std::vector<std::size_t> bucket_of_;       // per parameter
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;  // kept alive: they hold the hooks
  std::vector<uintptr_t> hook_keys_;

  mutable std::mutex mutex_;
  // Hook counts: expected per backward (learnt from the first), and fired in this micro-batch.
  bool learned_ = false;
  std::vector<int> expected_;
  std::vector<int> fired_;
  std::vector<int> pending_;  // per bucket: parameters short of their expected count (+1 if one expects none)
  // This micro-batch.
  bool sync_ = true;
  bool any_fired_ = false;
  std::size_t next_launch_ = 0;
  std::vector<std::unique_ptr<Work>> works_;
  int launched_in_backward_ = 0;
  GradSyncStats stats_;
};

}  // namespace ankh::parallel
