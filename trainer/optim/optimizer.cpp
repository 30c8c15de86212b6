#include "trainer/optim/optimizer.h"

#include "core/error.h"
#include "trainer/optim/adafactor.h"
#include "trainer/optim/adamw.h"

namespace ankh::optim {

std::unique_ptr<Optimizer> make_optimizer(const OptimConfig& config, NamedParams params) {
  switch (config.name) {
    case OptimizerKind::AdamW: return std::make_unique<AdamW>(config, std::move(params));
    case OptimizerKind::Adafactor: return std::make_unique<Adafactor>(config, std::move(params));
  }
  throw core::Error("unknown optimizer", "optim.name");  // unreachable: the enum is closed
}

bool exempt_from_weight_decay(const std::string& name, const torch::Tensor& param) {
  return param.dim() < 2 || name.find("norm") != std::string::npos;
}

int64_t estimate_state_bytes(const OptimConfig& config, const std::vector<std::vector<int64_t>>& shapes) {
  constexpr int64_t kFloat = 4;
  int64_t elements = 0;
  for (const auto& shape : shapes) {
    int64_t numel = 1;
    for (int64_t d : shape) numel *= d;
    if (config.name == OptimizerKind::AdamW) {
      elements += 2 * numel;
      continue;
    }
    if (shape.size() >= 2) {
      const int64_t cols = shape.back(), rows = shape[shape.size() - 2];
      elements += numel / cols + numel / rows;  // row and column statistics
    } else {
      elements += numel;
    }
    if (config.adafactor_beta1 > 0) elements += numel;
  }
  return elements * kFloat + kFloat * 2;  // + the step counter
}

}  // namespace ankh::optim
