// `ankh bench model`: forward+backward throughput of the encoder–decoder and its model FLOP
// utilisation: achieved FLOP/s (train_flops_per_token x tokens/s) against the matrix-multiply
// FLOP/s of this machine, measured in the same run with the same threads and dtype.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/strings.h"
#include "core/timer.h"
#include "data/vocab.h"
#include "trainer/bench/benchmark.h"
#include "trainer/model/model.h"
#include "trainer/run_config.h"

namespace ankh::bench {

namespace {

struct Options {
  std::vector<std::string> configs = {"configs/ankh-tiny.yaml", "configs/ankh-small.yaml"};
  std::vector<std::string> overrides;
  int64_t batch = 8;
  int64_t length = 0;  // 0: the config's data.max_length
  int64_t steps = 5;
  int64_t warmup = 2;
  std::string device = "cpu";
  int64_t matmul_size = 0;  // 0: 2048 on CPU, 8192 on CUDA
};

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

// FLOP/s of an n x n x n product in `dtype`: the reference for model FLOP utilisation.
double matmul_flops_per_second(int64_t n, torch::ScalarType dtype, const torch::Device& device) {
  const auto options = torch::TensorOptions().dtype(dtype).device(device);
  const torch::Tensor a = torch::randn({n, n}, options), b = torch::randn({n, n}, options);
  torch::Tensor c = torch::mm(a, b);
  synchronize(device);
  int64_t reps = 0;
  core::Stopwatch watch;
  do {  // at least a second and three products
    c = torch::mm(a, b);
    ++reps;
    if (reps % 4 == 0) synchronize(device);
  } while (reps < 3 || watch.seconds() < 1.0);
  synchronize(device);
  return 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(reps) /
         watch.seconds();
}

data::Batch synthetic_batch(int64_t rows, int64_t enc_len, int64_t dec_len, const torch::Device& device) {
  torch::manual_seed(1);
  const auto ids = torch::TensorOptions().dtype(torch::kLong);
  data::Batch b;
  b.input_ids = torch::randint(data::kFirstResidue, data::kFirstResidue + 20, {rows, enc_len}, ids).to(device);
  b.attention_mask = torch::ones({rows, enc_len}, ids).to(device);
  b.labels = torch::randint(data::kFirstResidue, data::kVocabSize, {rows, dec_len}, ids).to(device);
  b.decoder_input_ids =
      torch::cat({torch::zeros({rows, 1}, ids.device(device)), b.labels.slice(1, 0, dec_len - 1)}, 1);
  b.decoder_attention_mask = torch::ones({rows, dec_len}, ids).to(device);
  return b;
}

struct Result {
  double tokens_per_second = 0;
  double flops_per_second = 0;
};

Result time_model(const trainer::RunConfig& config, const Options& o, int64_t enc_len, int64_t dec_len,
                  const torch::Device& device) {
  namespace m = trainer::model;
  m::T5Model model(config.model);
  model->init_weights(static_cast<uint64_t>(config.run.seed));
  model->to(device);
  model->train();
  const data::Batch batch = synthetic_batch(o.batch, enc_len, dec_len, device);
  const m::AutocastState autocast = m::autocast_for(config.model, device);
  auto step = [&] {
    torch::Tensor loss;
    {
      m::AutocastGuard guard(autocast);
      loss = m::loss_terms(model->forward(batch), batch.labels).loss_sum;
    }
    loss.backward();
    for (auto& p : model->parameters()) p.mutable_grad() = torch::Tensor();
  };
  for (int64_t i = 0; i < o.warmup; ++i) step();
  synchronize(device);
  core::Stopwatch watch;
  for (int64_t i = 0; i < o.steps; ++i) step();
  synchronize(device);
  Result r;
  r.tokens_per_second = static_cast<double>(o.batch * enc_len * o.steps) / watch.seconds();
  r.flops_per_second = r.tokens_per_second * m::train_flops_per_token(config.model, enc_len, dec_len);
  return r;
}

int run(const Options& o) {
  const torch::Device device = o.device == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (device.is_cuda() && !torch::cuda::is_available())
    throw core::UsageError("--device cuda, but this build or machine has no CUDA device", "ankh bench model",
                           "use --device cpu");
  std::vector<trainer::RunConfig> configs;
  for (const auto& file : o.configs) configs.push_back(trainer::load_run_config(file, o.overrides));

  // The reference product runs in the dtype the model's matmuls use (bf16 under autocast).
  const bool autocast = trainer::model::autocast_for(configs.front().model, device).enabled;
  const torch::ScalarType dtype = autocast ? torch::kBFloat16 : torch::kFloat;
  const int64_t n = o.matmul_size > 0 ? o.matmul_size : (device.is_cuda() ? 8192 : 2048);
  const double peak = matmul_flops_per_second(n, dtype, device);
  std::printf("device %s, %d threads; %ld^3 %s matmul: %s FLOP/s\n\n", device.str().c_str(), at::get_num_threads(),
              static_cast<long>(n), c10::toString(dtype), core::format_si(peak).c_str());

  std::printf("| config | parameters | batch x enc/dec | tokens/s | model FLOP/s | matmul FLOP/s | MFU |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < configs.size(); ++i) {
    const trainer::RunConfig& c = configs[i];
    const int64_t enc_len = o.length > 0 ? o.length : c.data.max_length;
    const int64_t dec_len = trainer::model::typical_decoder_length(c.objective, enc_len);
    const Result r = time_model(c, o, enc_len, dec_len, device);
    std::printf("| %s | %s | %ld x %ld/%ld | %s | %s | %s | %.1f %% |\n", o.configs[i].c_str(),
                core::format_si(static_cast<double>(trainer::model::count_parameters(c.model).total)).c_str(),
                static_cast<long>(o.batch), static_cast<long>(enc_len), static_cast<long>(dec_len),
                core::format_si(r.tokens_per_second).c_str(), core::format_si(r.flops_per_second).c_str(),
                core::format_si(peak).c_str(), 100.0 * r.flops_per_second / peak);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

cli::Action setup_model(CLI::App& sub) {
  auto o = std::make_shared<Options>();
  sub.add_option("--config", o->configs, "run configs to time (repeatable)")->capture_default_str();
  sub.add_option("--set", o->overrides, "section.key=value override applied to every config (repeatable)");
  sub.add_option("--batch", o->batch, "sequences per forward/backward")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--length", o->length, "encoder tokens per sequence (0: data.max_length)")->check(CLI::NonNegativeNumber);
  sub.add_option("--steps", o->steps, "timed forward+backward steps")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--warmup", o->warmup, "untimed steps first")->capture_default_str()->check(CLI::NonNegativeNumber);
  sub.add_option("--device", o->device, "cpu or cuda")->capture_default_str()->check(CLI::IsMember({"cpu", "cuda"}));
  sub.add_option("--matmul-size", o->matmul_size, "n of the reference n^3 product (0: 2048 CPU, 8192 CUDA)");
  sub.footer("Synthetic full-length batches (no padding); decoder length typical for objective.kind.\n"
             "MFU = train_flops_per_token x tokens/s / matmul FLOP/s (docs/model.md).");
  return [o]() { return run(*o); };
}

}  // namespace ankh::bench
