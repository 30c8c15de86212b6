#include "trainer/optim/adafactor_fused.h"

#include <c10/core/DeviceGuard.h>

#include <cmath>

#include "ankh/build_config.h"

#if ANKH_HAVE_CUDA_KERNELS
#include "trainer/kernels/adafactor.h"
#include "trainer/kernels/torch_glue.h"
#endif

namespace ankh::optim {

bool fused_adafactor_built() { return ANKH_HAVE_CUDA_KERNELS && ANKH_TORCH_CUDA; }

bool fused_adafactor_applies(const std::vector<torch::Tensor>& params) {
  // At most 65535 members: one grid dimension of the kernels (a group of that many is unheard of).
  if (!fused_adafactor_built() || params.empty() || params.size() > 65535) return false;
  const torch::Tensor& first = params.front();
  auto fits = [&](const torch::Tensor& t) {
    return t.defined() && t.is_cuda() && t.scalar_type() == torch::kFloat && t.dim() == 2 && t.is_contiguous() &&
           t.sizes() == first.sizes() && t.device() == first.device();
  };
  for (const auto& p : params)
    if (!fits(p) || !fits(p.grad())) return false;
  return true;
}

#if ANKH_HAVE_CUDA_KERNELS

namespace {

// [grads..., params...] as device pointers, refreshed when one has moved (the gradients live in
// GradSync's persistent buckets, so in training this copies once).
void refresh(DevicePointers& pointers, const std::vector<torch::Tensor>& params) {
  std::vector<int64_t> now;
  now.reserve(2 * params.size());
  for (const auto& p : params) now.push_back(reinterpret_cast<int64_t>(p.grad().data_ptr()));
  for (const auto& p : params) now.push_back(reinterpret_cast<int64_t>(p.data_ptr()));
  if (pointers.device.defined() && now == pointers.host) return;
  pointers.host = now;
  pointers.device = torch::tensor(now, torch::kLong).to(params.front().device());
}

}  // namespace

void fused_factored_step(const std::vector<torch::Tensor>& params, torch::Tensor& row, torch::Tensor& col,
                         DevicePointers& pointers, const FactoredStepArgs& args) {
  torch::NoGradGuard no_grad;
  const torch::Tensor& first = params.front();
  const c10::OptionalDeviceGuard guard(first.device());
  const cudaStream_t stream = kernels::current_stream(first.device());
  refresh(pointers, params);
  const int64_t k = static_cast<int64_t>(params.size()), rows = first.size(0), cols = first.size(1);
  const auto* base = reinterpret_cast<const int64_t*>(pointers.device.data_ptr());
  const kernels::AdafactorGroup group{reinterpret_cast<const float* const*>(base),
                                      reinterpret_cast<float* const*>(base + k), k, rows, cols};
  const int64_t tiles = kernels::adafactor_row_tiles(rows);
  const auto f32 = first.options();

  // Pass 1, then the factored second moment as the stacked step updates it.
  torch::Tensor row_sums = at::empty({k, rows}, f32), col_partials = at::empty({k, tiles, cols}, f32);
  kernels::check_launch(kernels::adafactor_statistics(group, static_cast<float>(args.eps1),
                                                      row_sums.data_ptr<float>(), col_partials.data_ptr<float>(),
                                                      stream),
                        "Adafactor statistics");
  row.mul_(args.beta2t).add_(row_sums.div_(static_cast<double>(cols)), 1.0 - args.beta2t);
  col.mul_(args.beta2t).add_(col_partials.sum(1).div_(static_cast<double>(rows)), 1.0 - args.beta2t);
  const torch::Tensor row_factor = (row / row.mean(-1, /*keepdim=*/true)).rsqrt_().contiguous();
  const torch::Tensor col_factor = col.rsqrt().contiguous();
  const float* row_factor_ptr = row_factor.data_ptr<float>();
  const float* col_factor_ptr = col_factor.data_ptr<float>();

  // Pass 2: RMS of the update (and of the parameter), then each member's factor.
  torch::Tensor update_partials = at::empty({k, tiles}, f32);
  torch::Tensor param_partials = args.scale_parameter ? at::empty({k, tiles}, f32) : torch::Tensor();
  float* param_partials_ptr = args.scale_parameter ? param_partials.data_ptr<float>() : nullptr;
  kernels::check_launch(kernels::adafactor_update_norm(group, row_factor_ptr, col_factor_ptr,
                                                       update_partials.data_ptr<float>(), param_partials_ptr, stream),
                        "Adafactor update-norm");
  const double root_n = std::sqrt(static_cast<double>(rows * cols));
  const torch::Tensor update_rms = update_partials.sum(1).sqrt_().div_(root_n);
  const torch::Tensor alpha = args.scale_parameter
                                  ? param_partials.sum(1).sqrt_().div_(root_n).clamp_min_(args.eps2).mul_(args.rho)
                                  : torch::full({k}, args.rho, f32);
  const torch::Tensor scale = (alpha / (update_rms / args.clip_threshold).clamp_min_(1.0)).contiguous();

  // Pass 3.
  kernels::check_launch(
      kernels::adafactor_apply(group, row_factor_ptr, col_factor_ptr, scale.data_ptr<float>(), stream),
      "Adafactor apply");
}

#else

void fused_factored_step(const std::vector<torch::Tensor>&, torch::Tensor&, torch::Tensor&, DevicePointers&,
                         const FactoredStepArgs&) {
  TORCH_CHECK(false, "fused Adafactor: this ankh was built without its CUDA kernels");
}

#endif  // ANKH_HAVE_CUDA_KERNELS

}  // namespace ankh::optim
