#include "trainer/model/throughput.h"

#include <algorithm>

#include <torch/cuda.h>

#include "core/timer.h"
#include "data/batch.h"
#include "data/vocab.h"
#include "trainer/model/loss.h"
#include "trainer/model/model_stats.h"
#include "trainer/model/precision.h"
#include "trainer/model/t5_model.h"

namespace ankh::model {

namespace {

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

data::Batch synthetic_batch(int64_t rows, int64_t enc_len, int64_t dec_len, const torch::Device& device) {
  torch::manual_seed(1);
  const auto ids = torch::TensorOptions().dtype(torch::kLong);
  data::Batch b;
  b.input_ids = torch::randint(data::kFirstResidue, data::kFirstResidue + 20, {rows, enc_len}, ids).to(device);
  b.attention_mask = torch::ones({rows, enc_len}, ids).to(device);
  b.labels = torch::randint(data::kFirstResidue, data::kVocabSize, {rows, dec_len}, ids).to(device);
  b.decoder_input_ids = torch::cat({torch::zeros({rows, 1}, ids.device(device)), b.labels.slice(1, 0, dec_len - 1)}, 1);
  b.decoder_attention_mask = torch::ones({rows, dec_len}, ids).to(device);
  return b;
}

}  // namespace

double matmul_flops_per_second(int64_t n, torch::ScalarType dtype, const torch::Device& device, double min_seconds) {
  const auto options = torch::TensorOptions().dtype(dtype).device(device);
  const torch::Tensor a = torch::randn({n, n}, options), b = torch::randn({n, n}, options);
  torch::Tensor c = torch::mm(a, b);  // warm-up (cuBLAS handles, OpenBLAS threads)
  synchronize(device);
  // The ceiling is the fastest product, not the average: a product slowed by anything else on
  // the machine (another rank starting, a page fault) says nothing about what the device can do,
  // and a figure measured against a too-low ceiling could pass 100 %.
  double best = 0;
  core::Stopwatch total;
  for (int64_t reps = 0; reps < 3 || total.seconds() < min_seconds; ++reps) {
    core::Stopwatch watch;
    c = torch::mm(a, b);
    synchronize(device);
    best = std::max(best, 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) /
                              watch.seconds());
  }
  return best;
}

Throughput measure_training_throughput(const ModelConfig& config, int64_t batch, int64_t encoder_len,
                                       int64_t decoder_len, const torch::Device& device, int64_t warmup,
                                       int64_t steps, const MakeAfterBackward& after_backward) {
  T5Model model(config);
  model->init_weights(1);
  model->to(device);
  model->train();
  const AfterBackward after = after_backward ? after_backward(*model) : AfterBackward();
  const data::Batch b = synthetic_batch(batch, encoder_len, decoder_len, device);
  const AutocastState autocast = autocast_for(config, device);
  auto step = [&] {
    torch::Tensor loss;
    {
      AutocastGuard guard(autocast);
      loss = loss_terms(model->forward(b), b.labels).loss_sum;
    }
    loss.backward();
    if (after) after();
    for (auto& p : model->parameters()) p.mutable_grad() = torch::Tensor();
  };
  for (int64_t i = 0; i < warmup; ++i) step();
  synchronize(device);
  core::Stopwatch watch;
  for (int64_t i = 0; i < steps; ++i) step();
  synchronize(device);
  Throughput t;
  t.seconds_per_step = watch.seconds() / static_cast<double>(steps);
  t.tokens_per_second = static_cast<double>(batch * encoder_len) / t.seconds_per_step;
  t.flops_per_second = t.tokens_per_second * train_flops_per_token(config, encoder_len, decoder_len);
  return t;
}

}  // namespace ankh::model
