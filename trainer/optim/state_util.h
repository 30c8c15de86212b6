// Helpers shared by the optimizers: parameter checks, the dtype of state and arithmetic, working
// copies of low-precision parameters, and the strict loading of named state.
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "trainer/optim/optimizer.h"

namespace ankh::optim::detail {

// Throws core::Error for an empty list, a duplicate name, an undefined or non-floating tensor.
void check_params(const char* kind, const NamedParams& params);

// State and update arithmetic run in fp32 (fp64 for fp64 parameters): bf16 state would lose
// small updates and the second moment's range.
torch::ScalarType state_dtype(const torch::Tensor& param);

// A parameter as the update arithmetic sees it: the parameter itself when its dtype is the state
// dtype, else an fp32 copy that commit() writes back in place (the storage is never rebound).
class WorkingParam {
 public:
  explicit WorkingParam(const torch::Tensor& param);
  torch::Tensor& tensor() { return work_; }
  void commit();

 private:
  torch::Tensor param_, work_;
};

// The gradient in the state dtype (no copy when it already is).
torch::Tensor grad_in_state_dtype(const torch::Tensor& param);

// The step counter as a checkpointable tensor: int64, shape [], on the CPU.
torch::Tensor step_tensor(int64_t step);

// Copies `given` into the tensors of `expected` (in place, onto their devices) after checking
// that both hold the same names with the same shapes and dtypes. On any mismatch, throws a
// core::CheckpointError listing every one of them, and nothing has been copied.
void load_named_state(const char* kind, const NamedTensors& expected, const NamedTensors& given);

}  // namespace ankh::optim::detail
