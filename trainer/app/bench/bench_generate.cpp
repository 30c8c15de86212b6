// `ankh bench generate`: greedy generation tokens/s with the incremental decoder
// (T5Model::start_decoding + decode_step, decoder_cache.h) against the baseline without it (the
// full decode() over the growing prefix at every step), same model, same run, interleaved.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "core/strings.h"
#include "data/vocab.h"
#include "trainer/app/bench/benchmark.h"
#include "trainer/app/cli/choice_option.h"
#include "trainer/parallel/device.h"
#include "trainer/model/model.h"
#include "trainer/run_config.h"

namespace ankh::bench {

namespace {

struct Options {
  std::string config = "configs/ankh-small.yaml";
  std::vector<std::string> overrides;
  std::vector<int64_t> lengths = {50, 150, 400};
  int64_t batch = 8;
  int64_t encoder_length = 256;
  int64_t repeat = 2;
  parallel::DeviceKind device = parallel::DeviceKind::Cpu;
  int threads = 0;
};

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

struct Generated {
  double seconds;
  torch::Tensor tokens;  // [batch, length] on the CPU
};

// Greedy generation of `length` tokens, including the encoder pass; cached: with the decoder cache.
Generated generate(model::T5Model& m, const torch::Tensor& ids, const torch::Tensor& mask, int64_t length, bool cached) {
  torch::NoGradGuard no_grad;
  const torch::Device device = ids.device();
  const int64_t rows = ids.size(0);
  synchronize(device);
  const auto start = std::chrono::steady_clock::now();
  const torch::Tensor hidden = m->encode(ids, mask);
  torch::Tensor fed = torch::full({rows, 1}, data::kDecoderStart, ids.options());  // decoder inputs so far
  if (cached) {
    model::DecoderCache cache = m->start_decoding(hidden, mask, torch::arange(rows, ids.options()));
    for (int64_t t = 0; t < length; ++t) {
      const torch::Tensor next = m->decode_step(cache, fed.select(1, t)).argmax(-1);
      fed = torch::cat({fed, next.unsqueeze(1)}, 1);
    }
  } else {
    for (int64_t t = 0; t < length; ++t) {
      const torch::Tensor next = m->decode(fed, torch::Tensor(), hidden, mask).select(1, t).argmax(-1);
      fed = torch::cat({fed, next.unsqueeze(1)}, 1);
    }
  }
  synchronize(device);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {seconds, fed.narrow(1, 1, length).cpu()};
}

int run(const Options& o) {
  if (o.threads > 0) at::set_num_threads(o.threads);
  const torch::Device device = parallel::choose_device(o.device, 0, "--device");
  const trainer::RunConfig c = trainer::load_run_config(o.config, o.overrides);
  model::T5Model m(c.model);
  m->init_weights(0);  // speed does not depend on the weights
  m->to(device);
  m->eval();

  torch::manual_seed(0);
  const auto long_options = torch::TensorOptions().dtype(torch::kLong);
  const torch::Tensor ids =
      torch::randint(data::kFirstResidue, data::kFirstResidue + 20, {o.batch, o.encoder_length}, long_options).to(device);
  const torch::Tensor mask = torch::ones({o.batch, o.encoder_length}, long_options).to(device);

  std::printf("%s, device %s, %d threads; %ld rows x %ld encoder tokens, greedy, best of %ld\n\n", o.config.c_str(),
              device.str().c_str(), at::get_num_threads(), static_cast<long>(o.batch),
              static_cast<long>(o.encoder_length), static_cast<long>(o.repeat));
  std::printf("| generated tokens | tokens/s with cache | tokens/s without | speed-up | same tokens |\n");
  std::printf("|---|---|---|---|---|\n");
  generate(m, ids, mask, 2, true);  // warm-up
  for (const int64_t length : o.lengths) {
    double with = 1e300, without = 1e300;
    bool same = true;
    for (int64_t r = 0; r < o.repeat; ++r) {  // interleaved: both see the same machine state
      const Generated a = generate(m, ids, mask, length, true);
      const Generated b = generate(m, ids, mask, length, false);
      with = std::min(with, a.seconds);
      without = std::min(without, b.seconds);
      same = same && torch::equal(a.tokens, b.tokens);
    }
    const double tokens = static_cast<double>(o.batch * length);
    std::printf("| %ld | %s | %s | %.1fx | %s |\n", static_cast<long>(length), core::format_si(tokens / with).c_str(),
                core::format_si(tokens / without).c_str(), without / with, same ? "yes" : "no");
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

cli::Action setup_generate(CLI::App& sub) {
  auto o = std::make_shared<Options>();
  sub.add_option("--config", o->config, "run config of the model (random weights)")->capture_default_str();
  sub.add_option("--set", o->overrides, "section.key=value override (repeatable)");
  sub.add_option("--lengths", o->lengths, "generated tokens per row, one table row each (comma-separated)")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--batch", o->batch, "decoding rows (one per input)")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--encoder-length", o->encoder_length, "encoder tokens per input")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub.add_option("--repeat", o->repeat, "runs of each measurement (best of)")->capture_default_str()->check(CLI::PositiveNumber);
  cli::add_choice(sub, "--device", o->device, parallel::device_kinds(), "where the model runs (auto: cuda when available)");
  sub.add_option("--threads", o->threads, "CPU threads for LibTorch (0: its default)")->check(CLI::NonNegativeNumber);
  sub.footer("tokens/s = rows x generated tokens / wall time, the encoder pass included. Without the cache every step\n"
             "re-runs decode() over the whole prefix (and the cross-attention keys/values); same tokens: whether both\n"
             "generated the same greedy tokens.");
  return [o]() { return run(*o); };
}

}  // namespace ankh::bench
