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
#include "trainer/app/bench/benchmark.h"
#include "trainer/app/cli/choice_option.h"
#include "trainer/parallel/device.h"
#include "trainer/parallel/device_peaks.h"
#include "trainer/model/model.h"
#include "trainer/model/throughput.h"
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
  parallel::DeviceKind device = parallel::DeviceKind::Cpu;
  int64_t matmul_size = 0;  // 0: 2048 on CPU, 8192 on CUDA
  int threads = 0;          // 0: LibTorch's default
};

int run(const Options& o) {
  if (o.threads > 0) at::set_num_threads(o.threads);
  const torch::Device device = parallel::choose_device(o.device, 0, "--device");
  std::vector<trainer::RunConfig> configs;
  for (const auto& file : o.configs) configs.push_back(trainer::load_run_config(file, o.overrides));

  // The reference product runs in the dtype the model's matmuls use (bf16 under autocast).
  const bool autocast = model::autocast_for(configs.front().model, device).enabled;
  const torch::ScalarType dtype = autocast ? torch::kBFloat16 : torch::kFloat;
  const int64_t n = o.matmul_size > 0 ? o.matmul_size : (device.is_cuda() ? 8192 : 2048);
  const double ceiling = model::matmul_flops_per_second(n, dtype, device);
  // MFU is against the chip's dense peak where it is known (a GPU in the device table), else
  // against the matmul measured here (CPUs: this process's threads are the whole machine here).
  const auto known = parallel::dense_peak_flops(parallel::cuda_device_name(device), dtype);
  const double peak = known ? known->flops : ceiling;
  std::printf("device %s, %d threads; %ld^3 %s matmul: %s FLOP/s\n", device.str().c_str(), at::get_num_threads(),
              static_cast<long>(n), c10::toString(dtype), core::format_si(ceiling).c_str());
  std::printf("MFU is against %s FLOP/s: %s\n\n", core::format_si(peak).c_str(),
              known ? (known->device + " dense peak (device table)").c_str() : "the matmul above (no device-table peak)");

  std::printf("| config | parameters | batch x enc/dec | tokens/s | model FLOP/s | MFU | of the matmul ceiling |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < configs.size(); ++i) {
    const trainer::RunConfig& c = configs[i];
    const int64_t enc_len = o.length > 0 ? o.length : c.data.max_length;
    const int64_t dec_len = model::typical_decoder_length(c.objective, enc_len);
    const model::Throughput r = model::measure_training_throughput(
        c.model, o.batch, enc_len, dec_len, device, o.warmup, o.steps);
    std::printf("| %s | %s | %ld x %ld/%ld | %s | %s | %.1f %% | %.1f %% |\n", o.configs[i].c_str(),
                core::format_si(static_cast<double>(model::count_parameters(c.model).total)).c_str(),
                static_cast<long>(o.batch), static_cast<long>(enc_len), static_cast<long>(dec_len),
                core::format_si(r.tokens_per_second).c_str(), core::format_si(r.flops_per_second).c_str(),
                100.0 * r.flops_per_second / peak, 100.0 * r.flops_per_second / ceiling);
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
  cli::add_choice(sub, "--device", o->device, parallel::device_kinds(), "where the model runs (auto: cuda when available)");
  sub.add_option("--matmul-size", o->matmul_size, "n of the reference n^3 product (0: 2048 CPU, 8192 CUDA)");
  sub.add_option("--threads", o->threads, "CPU threads for LibTorch (0: its default)")->check(CLI::NonNegativeNumber);
  sub.footer("Synthetic full-length batches (no padding); decoder length typical for objective.kind.\n"
             "MFU = train_flops_per_token x tokens/s / peak: the dense peak of a GPU in the device table (H100/H200\n"
             "bf16: 989 TFLOP/s, ...), else the matmul measured in the same run; the matmul ceiling is shown too.");
  return [o]() { return run(*o); };
}

}  // namespace ankh::bench
