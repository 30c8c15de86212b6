#include "trainer/parallel/grad_sync.h"

#include <algorithm>
#include <unordered_set>

#include <spdlog/spdlog.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include "core/error.h"
#include "core/strings.h"
#include "core/timer.h"

namespace ankh::parallel {

namespace {

constexpr int64_t kMiB = int64_t{1} << 20;
// PyTorch DDP's first bucket: small, so that the first all-reduce starts early in backward.
constexpr int64_t kFirstBucketBytes = kMiB;

bool is_view_of(const torch::Tensor& grad, const torch::Tensor& view) {
  return grad.defined() && grad.data_ptr() == view.data_ptr() && grad.sizes() == view.sizes() &&
         grad.strides() == view.strides();
}

}  // namespace

// Runs after AccumulateGrad has added this backward's gradient into param.grad().
struct GradSync::ReadyHook final : torch::autograd::FunctionPostHook {
  ReadyHook(GradSync* owner, std::size_t param) : owner(owner), param(param) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    owner->on_gradient_ready(param);
    return outputs;
  }
  GradSync* owner;
  std::size_t param;
};

GradSync::GradSync(std::vector<std::pair<std::string, torch::Tensor>> named_params, Communicator& comm,
                   const DistConfig& config)
    : comm_(comm), overlap_(config.overlap), bucket_bytes_(std::max<int64_t>(1, static_cast<int64_t>(config.bucket_mb * kMiB))) {
  std::unordered_set<const void*> seen;
  for (auto& [name, p] : named_params) {
    if (!p.defined()) throw core::DistError("parameter '" + name + "' is undefined", "GradSync");
    if (!seen.insert(p.unsafeGetTensorImpl()).second) {
      spdlog::debug("GradSync: '{}' is a parameter seen before (tied weights): synchronised once", name);
      continue;
    }
    if (p.device() != comm.device())
      throw core::DistError("parameter '" + name + "' is on " + p.device().str() + " but the " + comm.name() +
                                " communicator works on " + comm.device().str(),
                            "GradSync", "move the model to the rank's device before creating GradSync");
    all_params_.push_back(p);
    if (!p.requires_grad()) continue;
    if (!p.is_leaf())
      throw core::DistError("parameter '" + name + "' is not a leaf tensor", "GradSync",
                            "pass the module's parameters, not tensors computed from them");
    names_.push_back(name);
    params_.push_back(p);
  }
  if (params_.empty())
    throw core::DistError("no trainable parameters to synchronise", "GradSync", "is every parameter frozen?");

  layout_ = assign_buckets(params_, bucket_bytes_, std::min(bucket_bytes_, kFirstBucketBytes));
  views_.resize(params_.size());
  bucket_of_.resize(params_.size());
  torch::NoGradGuard no_grad;
  for (std::size_t b = 0; b < layout_.size(); ++b) {
    const BucketLayout& bucket = layout_[b];
    buffers_.push_back(torch::zeros({bucket.numel}, torch::TensorOptions().dtype(bucket.dtype).device(bucket.device)));
    for (const BucketSlot& slot : bucket.slots) {
      torch::Tensor& p = params_[slot.param];
      views_[slot.param] = buffers_[b].narrow(0, slot.offset, slot.numel).view(p.sizes());
      bucket_of_[slot.param] = b;
      if (p.grad().defined()) views_[slot.param].copy_(p.grad());
      p.mutable_grad() = views_[slot.param];
    }
  }

  for (std::size_t i = 0; i < params_.size(); ++i) {
    // The AccumulateGrad node is created on demand and only weakly held by the tensor: we keep
    // it alive, otherwise our hook would vanish with it after the first backward.
    auto accumulator = torch::autograd::impl::grad_accumulator(params_[i]);
    if (!accumulator) throw core::DistError("parameter '" + names_[i] + "' has no gradient accumulator", "GradSync");
    hook_keys_.push_back(accumulator->add_post_hook(std::make_unique<ReadyHook>(this, i)));
    accumulators_.push_back(std::move(accumulator));
  }
  expected_.assign(params_.size(), 1);
  fired_.assign(params_.size(), 0);
  reset_micro_batch(true);

  int64_t numel = 0;
  for (const auto& b : layout_) numel += b.numel;
  spdlog::info("GradSync: {} parameters ({} values) in {} bucket(s) of up to {} on {}; all-reduce {}",
               params_.size(), core::format_count(numel), layout_.size(),
               core::format_bytes(static_cast<double>(bucket_bytes_)), comm.name(),
               overlap_ ? "overlapped with backward" : "after backward (dist.overlap=false)");
}

GradSync::~GradSync() {
  for (std::size_t i = 0; i < accumulators_.size(); ++i) accumulators_[i]->del_post_hook(hook_keys_[i]);
  // Collectives still in flight write into our buffers: let them land (not while unwinding: a
  // dead peer would never let them complete, and the job is about to be aborted).
  if (std::uncaught_exceptions() == 0) {
    for (auto& w : works_)
      if (w) {
        try {
          w->wait();
        } catch (const std::exception& e) {
          spdlog::warn("GradSync: an all-reduce failed while shutting down: {}", e.what());
        }
      }
  }
}

int GradSync::launched_buckets() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(next_launch_);
}

void GradSync::bind_gradient(std::size_t i) {
  torch::Tensor& p = params_[i];
  const torch::Tensor& view = views_[i];
  if (is_view_of(p.grad(), view)) return;
  torch::NoGradGuard no_grad;
  if (p.grad().defined())
    view.copy_(p.grad());  // replaced by a new tensor: keep its value
  else
    view.zero_();  // set to None: no gradient yet
  p.mutable_grad() = view;
}

void GradSync::reset_micro_batch(bool sync) {
  sync_ = sync;
  any_fired_ = false;
  std::fill(fired_.begin(), fired_.end(), 0);
  next_launch_ = 0;
  works_.clear();
  works_.resize(layout_.size());
  launched_in_backward_ = 0;
  pending_.assign(layout_.size(), 0);
  for (std::size_t b = 0; b < layout_.size(); ++b) {
    bool expects_none = false;
    for (const BucketSlot& slot : layout_[b].slots) {
      if (expected_[slot.param] > 0)
        ++pending_[b];
      else
        expects_none = true;
    }
    // A parameter that received no gradient in the first backward keeps its bucket back until
    // finish(): should it get one after all, it still lands before the all-reduce.
    if (expects_none) ++pending_[b];
  }
}

void GradSync::learn_hook_counts() {
  if (learned_ || !any_fired_) return;
  learned_ = true;
  expected_ = fired_;
  std::vector<std::string> unused, repeated;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (expected_[i] == 0) unused.push_back(names_[i]);
    if (expected_[i] > 1) repeated.push_back(names_[i] + " x" + std::to_string(expected_[i]));
  }
  if (!unused.empty())
    spdlog::warn("GradSync: {} parameter(s) received no gradient in the first backward ({}{}); their buckets are "
                 "all-reduced after backward",
                 unused.size(), unused.front(), unused.size() > 1 ? ", ..." : "");
  if (!repeated.empty())
    spdlog::debug("GradSync: {} parameter(s) get their gradient in several pieces per backward (activation "
                  "checkpointing?), e.g. {}",
                  repeated.size(), repeated.front());
}

void GradSync::on_gradient_ready(std::size_t i) {
  std::lock_guard<std::mutex> lock(mutex_);
  any_fired_ = true;
  ++fired_[i];
  bind_gradient(i);
  if (!sync_ || !overlap_ || !learned_) return;
  const std::size_t b = bucket_of_[i];
  if (b < next_launch_)
    throw core::DistError("parameter '" + names_[i] + "' received gradient #" + std::to_string(fired_[i]) +
                              " of this backward after its bucket's all-reduce had started (the first backward "
                              "produced " +
                              std::to_string(expected_[i]) + ")",
                          "GradSync",
                          "the autograd graph must be the same at every step; set dist.overlap=false if it cannot be");
  if (fired_[i] != expected_[i]) return;
  if (--pending_[b] == 0) launch_ready_buckets();
}

void GradSync::launch_ready_buckets() {
  while (next_launch_ < layout_.size() && pending_[next_launch_] == 0) launch(next_launch_, /*from_hook=*/true);
}

void GradSync::launch(std::size_t b, bool from_hook) {
  const std::string label = "grad bucket " + std::to_string(b + 1) + "/" + std::to_string(layout_.size()) + " (" +
                            core::format_bytes(static_cast<double>(layout_[b].bytes())) + ")";
  works_[b] = comm_.all_reduce_async(buffers_[b], ReduceOp::Sum, label);
  if (from_hook) ++launched_in_backward_;
  next_launch_ = b + 1;
}

void GradSync::begin_micro_batch(bool sync) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (sync_ && any_fired_)
    throw core::DistError("begin_micro_batch() called after the backward of a synchronised micro-batch without "
                          "finish()",
                          "GradSync", "call finish() after the backward of a begin_micro_batch(true) micro-batch");
  learn_hook_counts();
  reset_micro_batch(sync);
}

void GradSync::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!sync_)
    throw core::DistError("finish() after begin_micro_batch(false): that micro-batch does not communicate",
                          "GradSync", "call begin_micro_batch(true) before the last micro-batch's backward");
  learn_hook_counts();
  core::Stopwatch clock;
  GradSyncStats stats;
  for (std::size_t b = next_launch_; b < layout_.size(); ++b) {
    // Parameters whose hooks did not fire: make sure their gradients are still our views.
    for (const BucketSlot& slot : layout_[b].slots) bind_gradient(slot.param);
    launch(b, /*from_hook=*/false);
  }
  for (std::size_t b = 0; b < layout_.size(); ++b) {
    works_[b]->wait();
    stats.bytes += layout_[b].bytes();
  }
  stats.buckets = static_cast<int>(layout_.size());
  stats.launched_in_backward = launched_in_backward_;
  stats.finish_seconds = clock.seconds();
  stats_ = stats;
  works_.clear();
  next_launch_ = 0;  // nothing in flight any more
  reset_micro_batch(true);
}

void GradSync::zero_grad() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (sync_ && next_launch_ > 0)
    throw core::DistError("zero_grad() while gradient all-reduces are in flight", "GradSync",
                          "call finish() first");
  torch::NoGradGuard no_grad;
  for (auto& buffer : buffers_) buffer.zero_();
  for (std::size_t i = 0; i < params_.size(); ++i) bind_gradient(i);
}

void GradSync::broadcast_parameters(int root) {
  torch::NoGradGuard no_grad;
  // Coalesced like the gradients: one broadcast per bucket rather than one per tensor.
  for (const BucketLayout& group : assign_buckets(all_params_, bucket_bytes_, bucket_bytes_)) {
    std::vector<torch::Tensor> flat;
    flat.reserve(group.slots.size());
    for (const BucketSlot& slot : group.slots) flat.push_back(all_params_[slot.param].detach().reshape({-1}));
    torch::Tensor buffer = torch::cat(flat);
    comm_.broadcast(buffer, root);
    for (const BucketSlot& slot : group.slots) {
      torch::Tensor& p = all_params_[slot.param];
      p.detach().copy_(buffer.narrow(0, slot.offset, slot.numel).view(p.sizes()));
    }
  }
}

}  // namespace ankh::parallel
