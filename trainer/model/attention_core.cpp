#include "trainer/model/attention_core.h"

#include <string>
#include <vector>

#include <torch/autograd.h>

#include "core/error.h"

namespace ankh::model {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The dimensions of `grad` that `shape` broadcasts over: leading ones it lacks and those where it
// has size 1. Summing over them (keepdim) and dropping the leading ones gives shape back.
std::vector<int64_t> broadcast_dims(at::IntArrayRef shape, at::IntArrayRef grad) {
  std::vector<int64_t> dims;
  const auto lead = static_cast<int64_t>(grad.size() - shape.size());
  for (int64_t i = 0; i < static_cast<int64_t>(grad.size()); ++i)
    if (i < lead || (shape[static_cast<size_t>(i - lead)] == 1 && grad[static_cast<size_t>(i)] != 1)) dims.push_back(i);
  return dims;
}

struct AttentionCore : torch::autograd::Function<AttentionCore> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& query, const torch::Tensor& key,
                               const torch::Tensor& value, const torch::Tensor& added,
                               const c10::optional<torch::Tensor>& position) {
    torch::Tensor scores = at::matmul(query, key.transpose(-1, -2));  // [B, heads, Lq, Lk], compute dtype
    scores.add_(added);
    // _softmax, not softmax: autocast would widen softmax's input to fp32, the copy this avoids.
    torch::Tensor weights = at::_softmax(scores, -1, /*half_to_float=*/false);
    scores.reset();
    torch::Tensor context = at::matmul(weights, value);
    ctx->save_for_backward({query, key, value, weights});
    ctx->saved_data["has_position"] = position.has_value();
    if (position.has_value()) {
      ctx->saved_data["position_sizes"] = position->sizes().vec();
      ctx->saved_data["position_dtype"] = static_cast<int64_t>(position->scalar_type());
    }
    return context;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list saved = ctx->get_saved_variables();
    const torch::Tensor &query = saved[0], &key = saved[1], &value = saved[2], &weights = saved[3];
    const torch::Tensor& grad = grads[0];
    variable_list result(5);
    if (!grad.defined()) return result;
    const torch::Tensor grad_weights = at::matmul(grad, value.transpose(-1, -2));
    if (ctx->needs_input_grad(2)) result[2] = at::matmul(weights.transpose(-1, -2), grad);
    const torch::Tensor grad_scores =
        at::_softmax_backward_data(grad_weights, weights, -1, weights.scalar_type());
    if (ctx->needs_input_grad(0)) result[0] = at::matmul(grad_scores, key);
    if (ctx->needs_input_grad(1)) result[1] = at::matmul(grad_scores.transpose(-1, -2), query);
    if (ctx->saved_data["has_position"].toBool() && ctx->needs_input_grad(4)) {
      const std::vector<int64_t> shape = ctx->saved_data["position_sizes"].toIntVector();
      const auto dtype = static_cast<torch::ScalarType>(ctx->saved_data["position_dtype"].toInt());
      const std::vector<int64_t> dims = broadcast_dims(shape, grad_scores.sizes());
      result[4] = dims.empty() ? grad_scores.to(dtype) : at::sum(grad_scores, dims, /*keepdim=*/true, dtype);
      result[4] = result[4].view(shape);
    }
    return result;
  }
};

}  // namespace

torch::Tensor fused_attention(const torch::Tensor& query, const torch::Tensor& key, const torch::Tensor& value,
                              const torch::Tensor& added, const torch::Tensor& position) {
  const torch::ScalarType dtype = query.scalar_type();
  if (key.scalar_type() != dtype || value.scalar_type() != dtype || added.scalar_type() != dtype)
    throw core::Error(std::string("fused attention needs q, k, v and the bias in one dtype; got ") +
                          c10::toString(dtype) + ", " + c10::toString(key.scalar_type()) + ", " +
                          c10::toString(value.scalar_type()) + ", " + c10::toString(added.scalar_type()),
                      "model::fused_attention");
  if (added.requires_grad())
    throw core::Error("fused attention: the additive bias must not need a gradient (pass the trainable "
                      "position bias as `position`)",
                      "model::fused_attention");
  // An optional, not an undefined tensor: LibTorch's Function records every Tensor argument as
  // an autograd input and cannot take an undefined one.
  return AttentionCore::apply(query, key, value, added,
                              position.defined() ? c10::optional<torch::Tensor>(position) : c10::nullopt);
}

}  // namespace ankh::model
