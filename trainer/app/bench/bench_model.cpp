// `ankh bench model`: forward+backward throughput of the encoder–decoder and its model FLOP
// utilisation: achieved FLOP/s (train_flops_per_token x tokens/s) against the matrix-multiply
// FLOP/s of this machine, measured in the same run with the same threads and dtype. Variants
// (--variant) time the same config with other overrides in the same process, each row beside
// the first variant's at its config and batch: the A/B of a speed change in one run.
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
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
#include "trainer/optim/clip.h"
#include "trainer/optim/optimizer.h"
#include "trainer/run_config.h"

namespace ankh::bench {

namespace {

// One --variant: a label and the overrides it adds after --set.
struct Variant {
  std::string label;
  std::vector<std::string> overrides;
};

// "LABEL: key=value key=value" (or "LABEL:" for the configs as they are).
Variant parse_variant(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || core::trim(text.substr(0, colon)).empty())
    throw core::UsageError("'" + text + "' is not LABEL: key=value ...", "--variant",
                           "e.g. --variant 'plain: model.attention=plain model.fuse_projections=false'");
  Variant v{core::trim(text.substr(0, colon)), {}};
  std::istringstream rest(text.substr(colon + 1));
  for (std::string item; rest >> item;) {
    if (item.find('=') == std::string::npos)
      throw core::UsageError("'" + item + "' in variant '" + v.label + "' is not section.key=value", "--variant");
    v.overrides.push_back(item);
  }
  return v;
}

struct Options {
  std::vector<std::string> configs = {"configs/ankh-tiny.yaml", "configs/ankh-small.yaml"};
  std::vector<std::string> overrides;
  std::vector<std::string> variants;  // "LABEL: key=value ..."; none: one row per config as it is
  std::vector<int64_t> batches = {8};
  int64_t length = 0;  // 0: the config's data.max_length
  int64_t steps = 5;
  int64_t warmup = 2;
  parallel::DeviceKind device = parallel::DeviceKind::Cpu;
  int64_t matmul_size = 0;  // 0: 2048 on CPU, 8192 on CUDA
  int threads = 0;          // 0: LibTorch's default
  bool optimizer = false;   // also time each row with gradient clipping and the optimizer step
};

// The rest of a training step after backward, as the trainer takes it (trainer.cpp, update):
// gradient clipping with its one host synchronisation, then the config's optimizer at optim.lr.
model::MakeAfterBackward optimizer_step(const optim::OptimConfig& config) {
  return [config](model::T5ModelImpl& m) -> model::AfterBackward {
    optim::NamedParams params;
    for (const auto& p : m.named_parameters()) params.emplace_back(p.key(), p.value());
    std::shared_ptr<optim::Optimizer> optimizer = optim::make_optimizer(config, params);
    return [config, params, optimizer] {
      optim::clip_grad_norm(params, config.clip_norm);
      optimizer->step(config.lr);
    };
  };
}

// flops as a share of `bound`. A share above 100 % would say the bound is no bound: the reference
// product was too small or disturbed (a CPU shared with other work), so it is not printed.
std::string share_of(double flops, double bound) {
  if (flops > bound) return "n/a (above the reference: use a larger --matmul-size on an idle machine)";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %%", 100.0 * flops / bound);
  return text;
}

struct Row {
  std::string config_file;
  std::string variant;
  trainer::RunConfig config;
};

int run(const Options& o) {
  if (o.threads > 0) at::set_num_threads(o.threads);
  const torch::Device device = parallel::choose_device(o.device, 0, "--device");
  std::vector<Variant> variants;
  for (const auto& text : o.variants) variants.push_back(parse_variant(text));
  if (variants.empty()) variants.push_back({"", {}});
  // Every config and variant is loaded (and validated) before anything is timed.
  std::vector<Row> rows;
  for (const auto& file : o.configs)
    for (const Variant& v : variants) {
      std::vector<std::string> overrides = o.overrides;
      overrides.insert(overrides.end(), v.overrides.begin(), v.overrides.end());
      rows.push_back({file, v.label, trainer::load_run_config(file, overrides)});
    }

  // The reference product runs in the dtype the model's matmuls use (bf16 under autocast).
  const bool autocast = model::autocast_for(rows.front().config.model, device).enabled;
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

  std::printf("| config | variant | parameters | batch x enc/dec | tokens/s | vs first variant | model FLOP/s | MFU | "
              "of the matmul ceiling | %s |%s\n",
              device.is_cuda() ? "peak memory" : "resident memory",
              o.optimizer ? " with clip + optimizer: tokens/s | MFU | optimizer ms/step |" : "");
  std::printf("|---|---|---|---|---|---|---|---|---|---|%s\n", o.optimizer ? "---|---|---|" : "");
  int failed = 0;
  for (size_t first = 0; first < rows.size(); first += variants.size()) {  // one config's variants
    for (const int64_t batch : o.batches) {
      double baseline = 0;
      for (size_t i = first; i < first + variants.size(); ++i) {
        const trainer::RunConfig& c = rows[i].config;
        const int64_t enc_len = o.length > 0 ? o.length : c.data.max_length;
        const int64_t dec_len = model::typical_decoder_length(c.objective, enc_len);
        std::printf("| %s | %s | %s | %ld x %ld/%ld | ", rows[i].config_file.c_str(),
                    rows[i].variant.empty() ? "-" : rows[i].variant.c_str(),
                    core::format_si(static_cast<double>(model::count_parameters(c.model).total)).c_str(),
                    static_cast<long>(batch), static_cast<long>(enc_len), static_cast<long>(dec_len));
        std::fflush(stdout);
        parallel::reset_memory_peak(device);
        model::Throughput r;
        try {
          r = model::measure_training_throughput(c.model, batch, enc_len, dec_len, device, o.warmup, o.steps);
        } catch (const c10::OutOfMemoryError&) {
          // A row that does not fit says so; the others still run (the model is freed by now).
          std::printf("out of device memory | | | | | %s |\n", core::format_bytes(parallel::memory_in_use(device)).c_str());
          std::fflush(stdout);
          ++failed;
          continue;
        }
        if (i == first) baseline = r.tokens_per_second;
        char ratio[32] = "";
        if (baseline > 0) std::snprintf(ratio, sizeof ratio, "%.2fx", r.tokens_per_second / baseline);
        std::printf("%s | %s | %s | %s | %s | %s |", core::format_si(r.tokens_per_second).c_str(), ratio,
                    core::format_si(r.flops_per_second).c_str(), share_of(r.flops_per_second, peak).c_str(),
                    share_of(r.flops_per_second, ceiling).c_str(),
                    core::format_bytes(parallel::memory_in_use(device)).c_str());
        if (o.optimizer) {
          std::fflush(stdout);
          try {  // a second fresh model, so that both figures start from the same state
            const model::Throughput full = model::measure_training_throughput(
                c.model, batch, enc_len, dec_len, device, o.warmup, o.steps, optimizer_step(c.optim));
            std::printf(" %s | %s | %.1f |", core::format_si(full.tokens_per_second).c_str(),
                        share_of(full.flops_per_second, peak).c_str(),
                        1e3 * (full.seconds_per_step - r.seconds_per_step));
          } catch (const c10::OutOfMemoryError&) {
            std::printf(" out of device memory | | |");
            ++failed;
          }
        }
        std::printf("\n");
        std::fflush(stdout);
      }
    }
  }
  if (failed > 0) std::printf("\n%d row(s) did not fit in device memory\n", failed);
  return failed > 0 ? 1 : 0;
}

}  // namespace

cli::Action setup_model(CLI::App& sub) {
  auto o = std::make_shared<Options>();
  sub.add_option("--config", o->configs, "run configs to time (repeatable)")->capture_default_str();
  sub.add_option("--set", o->overrides, "section.key=value override applied to every config (repeatable)");
  sub.add_option("--batch", o->batches, "sequences per forward/backward (repeatable or comma-separated: a row each)")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  sub.add_option("--variant", o->variants,
                 "'LABEL: section.key=value ...' applied after --set (repeatable): a row per config, batch and "
                 "variant, with tokens/s against the first variant's");
  sub.add_option("--length", o->length, "encoder tokens per sequence (0: data.max_length)")->check(CLI::NonNegativeNumber);
  sub.add_option("--steps", o->steps, "timed forward+backward steps")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--warmup", o->warmup, "untimed steps first")->capture_default_str()->check(CLI::NonNegativeNumber);
  cli::add_choice(sub, "--device", o->device, parallel::device_kinds(), "where the model runs (auto: cuda when available)");
  sub.add_option("--matmul-size", o->matmul_size, "n of the reference n^3 product (0: 2048 CPU, 8192 CUDA)");
  sub.add_option("--threads", o->threads, "CPU threads for LibTorch (0: its default)")->check(CLI::NonNegativeNumber);
  sub.add_flag("--optimizer", o->optimizer,
               "also time each row with gradient clipping and the config's optimizer after backward (a second fresh "
               "model): the full step without data and communication, and the optimizer's milliseconds per step");
  sub.footer("Synthetic full-length batches (no padding); decoder length typical for objective.kind. A row that\n"
             "does not fit in device memory says so and the others run (exit status 1).\n"
             "MFU = train_flops_per_token x tokens/s / peak: the dense peak of a GPU in the device table (H100/H200\n"
             "bf16: 989 TFLOP/s, ...), else the matmul measured in the same run; the matmul ceiling is shown too.");
  return [o]() { return run(*o); };
}

}  // namespace ankh::bench
