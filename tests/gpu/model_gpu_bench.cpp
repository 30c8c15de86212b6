// Device-only driver (built by tests/gpu/model_device_check.sh, not by CMake): the numbers of
// `ankh bench model --device cuda` for ankh-base and ankh-large, for the attention kernels and
// activation checkpointing, without needing the rest of ankh built. Same code path as the bench
// (trainer/model/throughput.h); dimensions are the presets' (configs/model/).
#include <cstdio>
#include <string>

#include <torch/torch.h>

#include "core/strings.h"
#include "trainer/model/model_stats.h"
#include "trainer/model/throughput.h"

using namespace ankh::trainer;

int main(int argc, char** argv) {
  // --quick: the default configuration of each model only (plain attention, no checkpointing).
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const torch::Device cuda(torch::kCUDA, 0);
  const double peak = model::matmul_flops_per_second(8192, torch::kBFloat16, cuda);
  std::printf("8192^3 bf16 matmul: %s FLOP/s\n\n", ankh::core::format_si(peak).c_str());
  std::printf("| model | attention | checkpointing | batch x enc/dec | tokens/s | model FLOP/s | MFU |\n|---|---|---|---|---|---|---|\n");
  ModelConfig base;  // the defaults are ankh-base
  ModelConfig large = base;
  large.d_model = 1536;
  large.num_heads = 16;
  large.d_ff = 3840;
  struct Run { const char* name; ModelConfig config; const char* attention; bool checkpointing; };
  const Run runs[] = {{"ankh-base", base, "plain", false}, {"ankh-base", base, "sdpa", false},
                      {"ankh-base", base, "plain", true},  {"ankh-base", base, "sdpa", true},
                      {"ankh-large", large, "plain", false}, {"ankh-large", large, "sdpa", false}};
  for (const Run& r : runs) {
    if (quick && (std::string(r.attention) != "plain" || r.checkpointing)) continue;
    ModelConfig c = r.config;
    c.attention = r.attention;
    c.activation_checkpointing = r.checkpointing;
    const int64_t batch = 16, le = 512, ld = 205;
    const model::Throughput t = model::measure_training_throughput(c, batch, le, ld, cuda, 3, 10);
    std::printf("| %s | %s | %s | %ld x %ld/%ld | %s | %s | %.1f %% |\n", r.name, r.attention,
                r.checkpointing ? "on" : "off", static_cast<long>(batch), static_cast<long>(le), static_cast<long>(ld),
                ankh::core::format_si(t.tokens_per_second).c_str(), ankh::core::format_si(t.flops_per_second).c_str(),
                100 * t.flops_per_second / peak);
    std::fflush(stdout);
  }
  return 0;
}
