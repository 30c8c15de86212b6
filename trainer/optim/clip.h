// Global-norm gradient clipping (as torch.nn.utils.clip_grad_norm_, but safe for skipped steps).
#pragma once

#include <torch/types.h>

#include <vector>

#include "trainer/optim/optimizer.h"

namespace ankh::optim {

// The L2 norm of all gradients together, computed in fp32 per tensor (multi-tensor kernels where
// the dtype allows) and combined in fp64, with ONE host synchronisation. When max_norm > 0 and
// the norm is finite, scales the gradients in place by min(1, max_norm / (norm + 1e-6)).
// Returns the norm before clipping. A NaN or Inf norm is returned as it is and the gradients are
// left untouched, so the training loop can see it and skip the step.
double clip_grad_norm(const std::vector<torch::Tensor>& grads, double max_norm);

// The same over each parameter's .grad() (parameters without a gradient are ignored).
double clip_grad_norm(const NamedParams& params, double max_norm);

}  // namespace ankh::optim
