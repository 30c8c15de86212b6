#include "trainer/model/precision.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define ANKH_AUTOCAST_PER_DEVICE 1  // set_autocast_enabled(device, ...); the old calls are deprecated
#else
#define ANKH_AUTOCAST_PER_DEVICE 0
#endif

namespace ankh::model {

namespace {
void apply(const AutocastState& state) {
#if ANKH_AUTOCAST_PER_DEVICE
  at::autocast::set_autocast_enabled(at::kCUDA, state.enabled);
  at::autocast::set_autocast_dtype(at::kCUDA, state.dtype);
#else
  at::autocast::set_enabled(state.enabled);
  at::autocast::set_autocast_gpu_dtype(state.dtype);
#endif
}
}  // namespace

AutocastState AutocastState::current() {
#if ANKH_AUTOCAST_PER_DEVICE
  return {at::autocast::is_autocast_enabled(at::kCUDA), at::autocast::get_autocast_dtype(at::kCUDA)};
#else
  return {at::autocast::is_enabled(), at::autocast::get_autocast_gpu_dtype()};
#endif
}

AutocastState autocast_for(const ModelConfig& config, const torch::Device& device) {
  return {config.precision == Precision::Bf16 && device.is_cuda(), torch::kBFloat16};
}

AutocastGuard::AutocastGuard(AutocastState state) : previous_(AutocastState::current()) {
  apply(state);
  if (state.enabled) {
    at::autocast::increment_nesting();
    nested_ = true;
  }
}

AutocastGuard::~AutocastGuard() {
  // Casts of the weights are cached inside an autocast region; they must not outlive it (the
  // optimizer changes the weights before the next forward).
  if (nested_ && at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  apply(previous_);
}

}  // namespace ankh::model
