// The optimizer interface the training loop calls, and the factory that picks AdamW or Adafactor
// from the `optim:` config. See docs/optim.md for the exact update rules.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/named_tensors.h"
#include "trainer/optim/optim_config.h"

namespace ankh::optim {

// Parameters under their Hugging Face T5 names ("shared.weight",
// "encoder.block.0.layer.0.layer_norm.weight", "lm_head.weight", ...). The names key the optimizer
// state in checkpoints and decide which parameters get weight decay.
using NamedParams = std::vector<std::pair<std::string, torch::Tensor>>;
using core::NamedTensors;

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // One update from each parameter's .grad() (parameters without a gradient are left alone).
  // `lr` comes from the schedule (Adafactor with relative_step ignores it). Parameters are
  // updated in place: they may be views into flat buffers, and their storage is never rebound.
  // No host synchronisation happens here.
  virtual void step(double lr) = 0;

  // The whole state as named tensors: "<kind>.step" (int64, shape []) and one or more fp32
  // buffers per parameter ("adamw.exp_avg.<param>", "adafactor.row.<param>", ...), in a fixed
  // order. These are the LIVE buffers, not copies (a copy of Adam's state is twice the model):
  // write them out before the next step(), or clone them. All are contiguous (Adafactor's are
  // views into per-group stacked buffers).
  virtual NamedTensors state_tensors() const = 0;

  // Restores state_tensors() of an optimizer of the same kind over the same parameters, exactly:
  // the continuation is bit-identical. Names, shapes and dtypes must match one to one; otherwise
  // a CheckpointError lists every mismatch and nothing is changed.
  virtual void load_state_tensors(const NamedTensors& state) = 0;

  // Updates applied so far (restored by load_state_tensors).
  virtual int64_t step_count() const = 0;

  // "adamw" or "adafactor": the prefix of every state name.
  virtual const char* kind() const = 0;
};

// AdamW or Adafactor as `config.name` says. Throws core::Error on an empty list, a duplicate
// name, an undefined or non-floating-point tensor.
std::unique_ptr<Optimizer> make_optimizer(const OptimConfig& config, NamedParams params);

// The weight-decay rule shared by both optimizers: no decay for norms (a name containing "norm",
// e.g. "...layer_norm.weight", "encoder.final_layer_norm.weight") nor for any parameter with fewer
// than 2 dimensions (norm scales, biases). Embeddings, relative_attention_bias tables and the
// lm_head are decayed (as in Hugging Face's T5 pre-training script).
bool exempt_from_weight_decay(const std::string& name, const torch::Tensor& param);

// Bytes of optimizer state for parameters of these shapes, without allocating anything (for
// `ankh info`'s memory estimate). Counts fp32 buffers: AdamW 8 bytes per element; Adafactor
// rows + columns for matrices, one buffer for vectors, plus the momentum when adafactor_beta1 > 0.
int64_t estimate_state_bytes(const OptimConfig& config, const std::vector<std::vector<int64_t>>& shapes);

}  // namespace ankh::optim
