// Timing the model, for `ankh bench model` and the GPU checks: the matrix-multiply FLOP/s of
// the machine (the reference for model FLOP utilisation) and forward+backward throughput.
#pragma once

#include <cstdint>
#include <functional>

#include <torch/types.h>

#include "trainer/model/model_config.h"

namespace ankh::model {

// FLOP/s of the fastest of repeated n x n x n products in `dtype` on `device` (at least 3, and
// for at least `min_seconds`): the matmul ceiling.
double matmul_flops_per_second(int64_t n, torch::ScalarType dtype, const torch::Device& device,
                               double min_seconds = 1.0);

struct Throughput {
  double tokens_per_second = 0;  // encoder tokens
  double flops_per_second = 0;   // train_flops_per_token x tokens/s (model FLOPs)
  double seconds_per_step = 0;
};

class T5ModelImpl;

// What runs after each backward, with the gradients in place (an optimizer step): made once per
// measurement from the fresh model by a MakeAfterBackward. The model layer knows no optimizer;
// `ankh bench model --optimizer` passes one in.
using AfterBackward = std::function<void()>;
using MakeAfterBackward = std::function<AfterBackward(T5ModelImpl& model)>;

// Forward + loss + backward of a freshly initialised model on synthetic full-length batches
// (no padding), under the config's precision on `device`; with `after_backward`, each timed
// step also runs what it makes (no optimizer step otherwise).
Throughput measure_training_throughput(const ModelConfig& config, int64_t batch, int64_t encoder_len,
                                       int64_t decoder_len, const torch::Device& device, int64_t warmup,
                                       int64_t steps, const MakeAfterBackward& after_backward = {});

}  // namespace ankh::model
