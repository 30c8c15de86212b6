#include "trainer/optim/state_util.h"

#include <sstream>
#include <unordered_set>

#include "core/error.h"

namespace ankh::optim::detail {

void check_params(const char* kind, const NamedParams& params) {
  const std::string where = std::string("optimizer ") + kind;
  if (params.empty()) throw core::Error("no parameters to optimize", where, "pass the model's named parameters");
  std::unordered_set<std::string> seen;
  for (const auto& [name, p] : params) {
    if (!seen.insert(name).second)
      throw core::Error("parameter '" + name + "' is listed twice", where,
                        "each parameter must appear once (tied weights: list the shared tensor once)");
    if (!p.defined()) throw core::Error("parameter '" + name + "' is an undefined tensor", where);
    if (!p.is_floating_point())
      throw core::Error("parameter '" + name + "' has non-floating dtype " + std::string(c10::toString(p.scalar_type())),
                        where);
  }
}

torch::ScalarType state_dtype(const torch::Tensor& param) {
  return param.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
}

WorkingParam::WorkingParam(const torch::Tensor& param) : param_(param) {
  const auto dtype = state_dtype(param);
  work_ = param.scalar_type() == dtype ? param : param.to(dtype);
}

void WorkingParam::commit() {
  if (!work_.is_same(param_)) param_.copy_(work_);
}

torch::Tensor grad_in_state_dtype(const torch::Tensor& param) {
  const torch::Tensor& g = param.grad();
  const auto dtype = state_dtype(param);
  return g.scalar_type() == dtype ? g : g.to(dtype);
}

torch::Tensor step_tensor(int64_t step) { return torch::tensor(step, torch::kInt64).reshape({}); }

namespace {

std::string describe(const torch::Tensor& t) {
  std::ostringstream s;
  s << c10::toString(t.scalar_type()) << t.sizes();
  return s.str();
}

}  // namespace

void load_named_state(const char* kind, const NamedTensors& expected, const NamedTensors& given) {
  std::vector<std::string> problems;
  for (const auto& [name, t] : expected) {
    auto it = given.find(name);
    if (it == given.end()) {
      problems.push_back("missing '" + name + "' (" + describe(t) + ")");
      continue;
    }
    const torch::Tensor& g = it->second;
    if (!g.defined()) {
      problems.push_back("'" + name + "' is an undefined tensor");
    } else if (g.sizes() != t.sizes() || g.scalar_type() != t.scalar_type()) {
      problems.push_back("'" + name + "' is " + describe(g) + ", expected " + describe(t));
    } else if (g.scalar_type() == torch::kInt64 && g.numel() == 1 && g.item<int64_t>() < 0) {
      problems.push_back("'" + name + "' is negative (" + std::to_string(g.item<int64_t>()) + ")");
    }
  }
  for (const auto& [name, t] : given) {
    if (!expected.count(name)) problems.push_back("unexpected '" + name + "'");
  }
  if (!problems.empty()) {
    std::string what = std::to_string(problems.size()) + " mismatch(es) in the " + kind + " optimizer state:";
    const size_t shown = std::min<size_t>(problems.size(), 50);
    for (size_t i = 0; i < shown; ++i) what += "\n  " + problems[i];
    if (shown < problems.size()) what += "\n  ... and " + std::to_string(problems.size() - shown) + " more";
    throw core::CheckpointError(what, "optimizer state",
                                "resume with the same optim.name and model as the checkpoint was written with");
  }
  torch::NoGradGuard no_grad;
  for (const auto& [name, t] : expected) t.copy_(given.at(name));
}

}  // namespace ankh::optim::detail
