#include "trainer/model/gated_activation.h"

#include <c10/core/DeviceGuard.h>

#include "ankh/build_config.h"

#if ANKH_HAVE_CUDA_KERNELS
#include "trainer/kernels/gated_activation.h"
#include "trainer/kernels/torch_glue.h"
#endif

namespace ankh::model {

namespace {

torch::Tensor gate_function(const torch::Tensor& gate, Activation activation) {
  return activation == Activation::GatedGelu ? torch::gelu(gate, "tanh") : torch::silu(gate);
}

#if ANKH_HAVE_CUDA_KERNELS

kernels::GateFunction kernel_gate(Activation activation) {
  return activation == Activation::GatedGelu ? kernels::GateFunction::GeluTanh : kernels::GateFunction::Silu;
}

kernels::ElementType kernel_type(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat: return kernels::ElementType::Float32;
    case torch::kBFloat16: return kernels::ElementType::BFloat16;
    case torch::kHalf: return kernels::ElementType::Float16;
    default: TORCH_CHECK(false, "gated_activation: no kernel for ", type);
  }
}

// Rows of a [..., 2 * width] tensor (0 when it holds no elements).
int64_t rows_of(const torch::Tensor& h) { return h.size(-1) == 0 ? 0 : h.numel() / h.size(-1); }

// One autograd node for f(gate) * up: saves only the projection (LibTorch's ops keep f(gate)
// and up as well) and returns the gradient as one tensor in the projection's layout.
class FusedGatedActivation : public torch::autograd::Function<FusedGatedActivation> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& gate_up,
                               int64_t activation) {
    const torch::Tensor h = gate_up.contiguous();
    const int64_t width = h.size(-1) / 2;
    auto sizes = h.sizes().vec();
    sizes.back() = width;
    torch::Tensor out = at::empty(sizes, h.options());
    const c10::OptionalDeviceGuard guard(h.device());
    kernels::check_launch(kernels::gated_activation_forward(kernel_type(h.scalar_type()),
                                                   kernel_gate(static_cast<Activation>(activation)), h.data_ptr(),
                                                   out.data_ptr(), rows_of(h), width,
                                                   kernels::current_stream(h.device())),
                          "gated-activation forward");
    ctx->save_for_backward({h});
    ctx->saved_data["activation"] = activation;
    return out;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const torch::Tensor h = ctx->get_saved_variables()[0];
    const auto activation = static_cast<Activation>(ctx->saved_data["activation"].toInt());
    const torch::Tensor dout = grads[0].to(h.scalar_type()).contiguous();
    torch::Tensor dh = at::empty_like(h);
    const c10::OptionalDeviceGuard guard(h.device());
    kernels::check_launch(kernels::gated_activation_backward(kernel_type(h.scalar_type()), kernel_gate(activation),
                                                    h.data_ptr(), dout.data_ptr(), dh.data_ptr(),
                                                    rows_of(h), h.size(-1) / 2,
                                                    kernels::current_stream(h.device())),
                          "gated-activation backward");
    return {dh, torch::Tensor()};
  }
};

#endif  // ANKH_HAVE_CUDA_KERNELS

}  // namespace

bool fused_gated_activation_built() { return ANKH_HAVE_CUDA_KERNELS && ANKH_TORCH_CUDA; }

bool fused_gated_activation_applies(const torch::Tensor& gate_up, Activation activation) {
  const auto type = gate_up.scalar_type();
  return fused_gated_activation_built() && activation != Activation::Relu && gate_up.is_cuda() &&
         (type == torch::kFloat || type == torch::kBFloat16 || type == torch::kHalf);
}

torch::Tensor gated_activation(const torch::Tensor& gate_up, Activation activation, bool fused) {
  TORCH_CHECK(activation != Activation::Relu, "gated_activation: relu is not gated");
  TORCH_CHECK(gate_up.size(-1) % 2 == 0, "gated_activation: the projection's last dimension (", gate_up.size(-1),
              ") is not gate and up of equal width");
#if ANKH_HAVE_CUDA_KERNELS
  if (fused && fused_gated_activation_applies(gate_up, activation))
    return FusedGatedActivation::apply(gate_up, static_cast<int64_t>(activation));
#endif
  (void)fused;
  const auto halves = gate_up.chunk(2, -1);
  return gated_activation(halves[0], halves[1], activation);
}

torch::Tensor gated_activation(const torch::Tensor& gate, const torch::Tensor& up, Activation activation) {
  return gate_function(gate, activation) * up;
}

}  // namespace ankh::model
