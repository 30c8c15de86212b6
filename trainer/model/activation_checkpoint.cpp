#include "trainer/model/activation_checkpoint.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <ATen/Context.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/csrc/autograd/saved_variable.h>

#include "trainer/model/precision.h"

namespace ankh::model {

namespace {

using torch::autograd::variable_list;

// RNG states of the generators a block may draw from (dropout): the CPU one and, for CUDA
// inputs, the current device's.
struct RngStates {
  torch::Tensor cpu;
  std::optional<torch::Device> cuda_device;
  torch::Tensor cuda;

  static RngStates capture(const std::vector<torch::Tensor>& inputs) {
    RngStates s;
    s.cpu = get(at::detail::getDefaultCPUGenerator());
    for (const auto& t : inputs) {
      if (t.defined() && t.is_cuda()) {
        s.cuda_device = t.device();
        s.cuda = get(at::globalContext().defaultGenerator(t.device()));
        break;
      }
    }
    return s;
  }
  void restore() const {
    set(at::detail::getDefaultCPUGenerator(), cpu);
    if (cuda_device) set(at::globalContext().defaultGenerator(*cuda_device), cuda);
  }

 private:
  static torch::Tensor get(const at::Generator& g) {
    at::Generator gen = g;  // a handle: copies share the generator
    std::lock_guard<std::mutex> lock(gen.mutex());
    return gen.get_state();
  }
  static void set(const at::Generator& g, const torch::Tensor& state) {
    at::Generator gen = g;
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state);
  }
};

// Runs the recorded RNG states for the scope of a recomputation, then puts back the states the
// rest of the backward pass expects (it must not see dropout masks replayed).
class RngFork {
 public:
  explicit RngFork(const RngStates& replay, const std::vector<torch::Tensor>& inputs)
      : saved_(RngStates::capture(inputs)) {
    replay.restore();
  }
  ~RngFork() { saved_.restore(); }

 private:
  RngStates saved_;
};

class CheckpointBackward : public torch::autograd::Node {
 public:
  CheckpointBackward(BlockFunction fn, const std::vector<torch::Tensor>& inputs, bool preserve_rng)
      : fn_(std::move(fn)), autocast_(AutocastState::current()) {
    for (const auto& t : inputs) {
      saved_.emplace_back(t, /*is_output=*/false);
      requires_grad_.push_back(t.defined() && t.requires_grad());
    }
    if (preserve_rng) rng_ = RngStates::capture(inputs);
  }

  variable_list apply(variable_list&& grads) override {
    variable_list result(saved_.size());
    if (!fn_) throw std::runtime_error("ankh checkpoint: backward through a block twice (retain_graph is not supported)");
    if (grads.empty() || !grads[0].defined()) return result;

    std::vector<torch::Tensor> inputs;
    inputs.reserve(saved_.size());
    for (size_t i = 0; i < saved_.size(); ++i) {
      torch::Tensor t = saved_[i].unpack();
      inputs.push_back(t.defined() ? t.detach().requires_grad_(requires_grad_[i]) : t);
    }
    torch::Tensor output;
    {
      torch::AutoGradMode grad_mode(true);
      std::optional<RngFork> fork;
      if (rng_) fork.emplace(*rng_, inputs);
      AutocastGuard autocast(autocast_);
      output = fn_(inputs);
    }
    if (output.requires_grad()) torch::autograd::backward({output}, {grads[0]});
    for (size_t i = 0; i < inputs.size(); ++i)
      if (requires_grad_[i]) result[i] = inputs[i].grad();
    release_variables();
    return result;
  }

  void release_variables() override {
    saved_.clear();
    fn_ = nullptr;
  }

  std::string name() const override { return "ankh::CheckpointBackward"; }

 private:
  BlockFunction fn_;
  std::vector<torch::autograd::SavedVariable> saved_;
  std::vector<bool> requires_grad_;
  AutocastState autocast_;
  std::optional<RngStates> rng_;
};

}  // namespace

torch::Tensor checkpoint(BlockFunction fn, const std::vector<torch::Tensor>& inputs, bool preserve_rng) {
  if (!torch::GradMode::is_enabled()) return fn(inputs);
  // Made before the forward runs, so that it records the RNG state the forward starts from.
  auto node = std::shared_ptr<CheckpointBackward>(new CheckpointBackward(fn, inputs, preserve_rng),
                                                  torch::autograd::deleteNode);
  node->set_next_edges(torch::autograd::collect_next_edges(inputs));
  torch::Tensor output;
  {
    torch::NoGradGuard no_grad;
    output = fn(inputs);
  }
  // The block's parameters always want gradients, even when no input does (frozen embeddings).
  torch::autograd::set_history(output, node);
  return output;
}

}  // namespace ankh::model
