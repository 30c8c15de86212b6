#include "trainer/model/activation_checkpoint.h"

#include <memory>
#include <string>
#include <utility>

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/csrc/autograd/saved_variable.h>

#include "trainer/model/precision.h"

namespace ankh::model {

namespace {

using torch::autograd::variable_list;

class CheckpointBackward : public torch::autograd::Node {
 public:
  CheckpointBackward(BlockFunction fn, const std::vector<torch::Tensor>& inputs)
      : fn_(std::move(fn)), autocast_(AutocastState::current()) {
    for (const auto& t : inputs) {
      saved_.emplace_back(t, /*is_output=*/false);
      requires_grad_.push_back(t.defined() && t.requires_grad());
    }
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
};

}  // namespace

torch::Tensor checkpoint(BlockFunction fn, const std::vector<torch::Tensor>& inputs) {
  if (!torch::GradMode::is_enabled()) return fn(inputs);
  auto node = std::shared_ptr<CheckpointBackward>(new CheckpointBackward(fn, inputs),
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
