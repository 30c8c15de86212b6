// `ankh bench comm [CONFIG [overrides]]`, run under mpirun (tests/run_mpi.sh 2 ankh bench comm):
//
// 1. All-reduce bandwidth per message size, nccl-tests style: algbw = bytes / time, busbw =
//    algbw * 2(n-1)/n (what each link carries in a ring), against a local memcpy of the same size
//    measured in the same run. Every result is checked element by element first.
// 2. GradSync on parameters shaped like CONFIG's model (default ankh-small), with a stand-in
//    backward that does each weight's real gradient GEMM (tokens x in x out): step time with no
//    communication at all (the baseline), with dist.overlap=false and with overlap; the exposed
//    communication of each is its step time minus the baseline's.
//
// `--inject-hang` tests the watchdog instead: rank 1 never joins an all-reduce, and the job must
// exit non-zero after dist.timeout_s.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <map>
#include <thread>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/logging.h"
#include "core/strings.h"
#include "core/timer.h"
#include "trainer/app/bench/benchmark.h"
#include "trainer/app/cli/choice_option.h"
#include "trainer/parallel/device.h"
#include "trainer/app/cli/config_args.h"
#include "trainer/parallel/grad_sync.h"
#include "trainer/parallel/make_communicator.h"
#include "trainer/parallel/mpi_env.h"

namespace ankh::bench {

namespace {

using parallel::Communicator;
using parallel::GradSync;
using parallel::ReduceOp;

struct Options {
  cli::ConfigArgs config;
  std::vector<std::string> sizes = {"8K", "64K", "512K", "4M", "32M", "128M"};
  int iters = 20;
  int warmup = 3;
  int steps = 3;
  int rounds = 3;
  int64_t tokens = 64;
  parallel::DeviceKind device = parallel::DeviceKind::Auto;
  bool skip_grad_sync = false;
  bool inject_hang = false;
};

int64_t parse_size(const std::string& text) {
  std::string digits = text;
  int64_t unit = 1;
  if (!digits.empty()) {
    const char suffix = static_cast<char>(std::toupper(static_cast<unsigned char>(digits.back())));
    if (suffix == 'K' || suffix == 'M' || suffix == 'G') {
      unit = suffix == 'K' ? int64_t{1} << 10 : suffix == 'M' ? int64_t{1} << 20 : int64_t{1} << 30;
      digits.pop_back();
    }
  }
  auto n = core::parse_int(digits);
  if (!n || *n <= 0)
    throw core::UsageError("bad message size '" + text + "'", "--sizes", "bytes, with an optional K, M or G suffix");
  return *n * unit;
}

// Waits for the device's queued work (CUDA); CPU work is already done when the call returns.
void synchronize(Communicator& comm) {
  if (comm.device().is_cuda()) torch::cuda::synchronize(comm.device().index());
}

// ---- all-reduce bandwidth -------------------------------------------------------------------

// Element i of rank r: small integers whose float sums are exact.
torch::Tensor pattern(int rank, int64_t n, const torch::Device& device) {
  auto i = torch::arange(n, torch::kLong);
  return ((i % 13) + rank).to(torch::kFloat).to(device);
}

int64_t count_wrong(const torch::Tensor& reduced, int world) {
  auto i = torch::arange(reduced.numel(), torch::kLong);
  auto expected = ((i % 13) * world + world * (world - 1) / 2).to(torch::kFloat);
  return (reduced.cpu() != expected).sum().item<int64_t>();
}

void bench_all_reduce(Communicator& comm, const std::vector<int64_t>& sizes, const Options& o) {
  const int world = comm.size();
  const double bus_factor = world > 1 ? 2.0 * (world - 1) / world : 1.0;
  if (comm.rank() == 0) {
    fmt::print("\nAll-reduce (sum, float32) on {} rank(s), {} communicator on {}; {} timed iterations after {} "
               "warm-up\n\n",
               world, comm.name(), comm.device().str(), o.iters, o.warmup);
    fmt::print("| size | time | algbw | busbw | memcpy | busbw / memcpy | wrong |\n");
    fmt::print("|---:|---:|---:|---:|---:|---:|---:|\n");
  }
  for (const int64_t bytes : sizes) {
    const int64_t n = std::max<int64_t>(1, bytes / 4);
    auto t = pattern(comm.rank(), n, comm.device());
    comm.all_reduce(t);
    const int64_t wrong = count_wrong(t, world);

    // Baseline: a local copy of the same size, on the same device (no communication at all).
    auto src = torch::zeros({n}, t.options()), dst = torch::zeros_like(src);
    for (int k = 0; k < o.warmup; ++k) dst.copy_(src);
    synchronize(comm);
    core::Stopwatch copy_clock;
    for (int k = 0; k < o.iters; ++k) dst.copy_(src);
    synchronize(comm);
    const double copy_s = copy_clock.seconds() / o.iters;

    t.zero_();  // timed iterations on zeros: summing in place would overflow otherwise
    for (int k = 0; k < o.warmup; ++k) comm.all_reduce(t);
    comm.barrier();  // start together
    core::Stopwatch clock;
    for (int k = 0; k < o.iters; ++k) comm.all_reduce(t);
    synchronize(comm);
    const double s = clock.seconds() / o.iters;
    const double algbw = static_cast<double>(n * 4) / s / 1e9;
    const double copybw = static_cast<double>(n * 4) / copy_s / 1e9;
    if (comm.rank() == 0)
      fmt::print("| {} | {:.1f} us | {:.2f} GB/s | {:.2f} GB/s | {:.2f} GB/s | {:.2f} | {} |\n",
                 core::format_bytes(static_cast<double>(n * 4)), s * 1e6, algbw, algbw * bus_factor, copybw,
                 algbw * bus_factor / copybw, wrong);
    if (wrong > 0)
      throw core::DistError(std::to_string(wrong) + " wrong elements in an all-reduce of " +
                                core::format_bytes(static_cast<double>(bytes)),
                            "bench comm");
  }
}

// ---- GradSync --------------------------------------------------------------------------------

// Parameter shapes of a T5 v1.1 encoder-decoder (Hugging Face names, forward order).
std::vector<std::pair<std::string, std::vector<int64_t>>> t5_shapes(const model::ModelConfig& m) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  const int64_t d = m.d_model, inner = m.num_heads * m.d_kv;
  auto attention = [&](const std::string& prefix, bool relative_bias) {
    for (const char* w : {"q", "k", "v"}) out.push_back({prefix + w + ".weight", {inner, d}});
    out.push_back({prefix + "o.weight", {d, inner}});
    if (relative_bias) out.push_back({prefix + "relative_attention_bias.weight", {m.relative_buckets, m.num_heads}});
  };
  auto ffn = [&](const std::string& prefix) {
    out.push_back({prefix + "wi_0.weight", {m.d_ff, d}});
    out.push_back({prefix + "wi_1.weight", {m.d_ff, d}});
    out.push_back({prefix + "wo.weight", {d, m.d_ff}});
  };
  out.push_back({"shared.weight", {m.vocab_size, d}});
  for (int64_t i = 0; i < m.encoder_layers; ++i) {
    const std::string b = "encoder.block." + std::to_string(i) + ".layer.";
    attention(b + "0.SelfAttention.", i == 0);
    out.push_back({b + "0.layer_norm.weight", {d}});
    ffn(b + "1.DenseReluDense.");
    out.push_back({b + "1.layer_norm.weight", {d}});
  }
  out.push_back({"encoder.final_layer_norm.weight", {d}});
  for (int64_t i = 0; i < m.decoder_layers; ++i) {
    const std::string b = "decoder.block." + std::to_string(i) + ".layer.";
    attention(b + "0.SelfAttention.", i == 0);
    out.push_back({b + "0.layer_norm.weight", {d}});
    attention(b + "1.EncDecAttention.", false);
    out.push_back({b + "1.layer_norm.weight", {d}});
    ffn(b + "2.DenseReluDense.");
    out.push_back({b + "2.layer_norm.weight", {d}});
  }
  out.push_back({"decoder.final_layer_norm.weight", {d}});
  out.push_back({"lm_head.weight", {m.vocab_size, d}});
  return out;
}

// Stand-in for the model: each weight W [out, in] meets an activation X [tokens, in] in a
// linear layer, so backward computes each weight gradient with the GEMM a real layer needs, in
// reverse parameter order; norm weights are elementwise.
class StandIn {
 public:
  StandIn(const model::ModelConfig& model, int64_t tokens, const torch::Device& device) {
    torch::manual_seed(1234);  // the same weights and activations on every rank
    for (auto& [name, shape] : t5_shapes(model)) {
      auto p = (torch::randn(shape) * 0.02).to(device).requires_grad_(true);
      const int64_t in = shape.back();
      if (!inputs_.count(in)) inputs_[in] = torch::randn({tokens, in}).to(device);
      params_.emplace_back(name, p);
    }
  }
  void forward_backward() {
    torch::Tensor loss;
    for (auto& [name, p] : params_) {
      const auto& x = inputs_.at(p.size(-1));
      auto y = p.dim() == 2 ? torch::nn::functional::linear(x, p) : x * p;
      auto part = y.square().mean();
      loss = loss.defined() ? loss + part : part;
    }
    loss.backward();
  }
  const std::vector<std::pair<std::string, torch::Tensor>>& params() const { return params_; }
  int64_t numel() const {
    int64_t n = 0;
    for (auto& [name, p] : params_) n += p.numel();
    return n;
  }

 private:
  std::vector<std::pair<std::string, torch::Tensor>> params_;
  std::map<int64_t, torch::Tensor> inputs_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

struct ModeTimes {
  explicit ModeTimes(std::string n) : name(std::move(n)) {}
  std::string name;
  std::vector<double> steps, finishes;
  int launched_in_backward = 0, buckets = 0;
};

// One untimed step (it warms up and, with GradSync, learns the hook counts), then `steps` timed
// ones. `dist` null: plain backward without any communication (the baseline).
void run_mode(StandIn& model, Communicator& comm, const parallel::DistConfig* dist, int steps, ModeTimes& out) {
  std::unique_ptr<GradSync> sync;
  if (dist) sync = std::make_unique<GradSync>(model.params(), comm, *dist);
  for (int k = 0; k < steps + 1; ++k) {
    if (sync) {
      sync->zero_grad();
    } else {
      // Zeroed, not set to None: backward then accumulates into existing gradients, as it does
      // into GradSync's buckets, so the difference between the modes is communication alone.
      torch::NoGradGuard no_grad;
      for (auto& [n, p] : model.params())
        if (p.grad().defined()) p.mutable_grad().zero_();
    }
    comm.barrier();  // start together
    core::Stopwatch clock;
    if (sync) sync->begin_micro_batch(true);
    model.forward_backward();
    if (sync) sync->finish();
    synchronize(comm);
    if (k == 0) continue;
    out.steps.push_back(clock.seconds());
    if (!sync) continue;
    out.finishes.push_back(sync->last_comm_seconds());
    out.launched_in_backward = sync->last_stats().launched_in_backward;
    out.buckets = sync->last_stats().buckets;
  }
}

// Every rank fed the same inputs, so the synchronised gradient is world x the local one.
void check_sum(const StandIn& model, const std::vector<torch::Tensor>& reference) {
  double worst = 0;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    const auto& g = model.params()[i].second.grad();
    worst = std::max(worst, ((g - reference[i]).abs().max() / (reference[i].abs().max() + 1e-30)).item<double>());
  }
  if (worst > 1e-6)
    throw core::DistError("GradSync gradients differ from the sum over ranks (relative error " +
                              std::to_string(worst) + ")",
                          "bench comm");
}

void bench_grad_sync(Communicator& comm, const trainer::RunConfig& config, const Options& o) {
  StandIn model(config.model, o.tokens, comm.device());
  parallel::DistConfig off = config.dist, on = config.dist;
  off.overlap = false;
  on.overlap = true;
  ModeTimes base("no communication (baseline)"), no_overlap("dist.overlap=false"), overlap("dist.overlap=true");
  std::vector<torch::Tensor> reference;
  // Rounds interleave the modes, so that a change in machine load hits all of them alike.
  for (int round = 0; round < o.rounds; ++round) {
    run_mode(model, comm, nullptr, o.steps, base);
    if (reference.empty())
      for (auto& [n, p] : model.params()) reference.push_back(p.grad().clone() * comm.size());
    run_mode(model, comm, &off, o.steps, no_overlap);
    check_sum(model, reference);
    run_mode(model, comm, &on, o.steps, overlap);
    check_sum(model, reference);
  }

  if (comm.rank() != 0) return;
  const double b = median(base.steps);
  fmt::print("\nGradSync on {} parameters shaped like the config's model ({} MiB of float32 gradients), "
             "dist.bucket_mb={}, stand-in backward of {} tokens, {} rank(s); median of {} rounds x {} steps\n\n",
             core::format_count(model.numel()), core::format_double(std::round(model.numel() * 4.0 / (1 << 20))),
             core::format_double(config.dist.bucket_mb), o.tokens, comm.size(), o.rounds, o.steps);
  fmt::print("| mode | step | in finish() | exposed comm (step - baseline) | buckets started in backward |\n");
  fmt::print("|---|---:|---:|---:|---:|\n");
  fmt::print("| {} | {:.1f} ms | - | - | - |\n", base.name, b * 1e3);
  for (const ModeTimes* m : {&no_overlap, &overlap})
    fmt::print("| {} | {:.1f} ms | {:.1f} ms | {:.1f} ms | {}/{} |\n", m->name, median(m->steps) * 1e3,
               median(m->finishes) * 1e3, (median(m->steps) - b) * 1e3, m->launched_in_backward, m->buckets);
  const double exposed_off = median(no_overlap.steps) - b, exposed_on = median(overlap.steps) - b;
  fmt::print("\nstep time overlap/no-overlap = {:.3f}; ", median(overlap.steps) / median(no_overlap.steps));
  if (exposed_off > 0)
    fmt::print("overlap hides {:.0f}% of the exposed communication ({:.1f} ms -> {:.1f} ms per step)\n",
               100.0 * (exposed_off - exposed_on) / exposed_off, exposed_off * 1e3, exposed_on * 1e3);
  else
    fmt::print("no exposed communication to hide (noise larger than the all-reduce time)\n");
}

// ---- watchdog ---------------------------------------------------------------------------------

int inject_hang(Communicator& comm, const parallel::DistConfig& dist) {
  if (comm.size() < 2)
    throw core::UsageError("--inject-hang needs at least 2 ranks", "bench comm", "run it under mpirun -np 2");
  if (comm.rank() == 1) {
    // Rank 1 "hangs" (never joins); rank 0's watchdog must abort the whole job long before this.
    std::this_thread::sleep_for(std::chrono::duration<double>(dist.timeout_s * 10 + 60));
    throw core::DistError("the watchdog did not abort the job", "bench comm --inject-hang");
  }
  spdlog::info("inject-hang: rank 0 all-reduces, rank 1 never joins; expect the watchdog after {} s",
               dist.timeout_s);
  auto t = torch::ones({1024}, torch::TensorOptions().device(comm.device()));
  comm.all_reduce_async(t, ReduceOp::Sum, "inject-hang all_reduce (rank 1 never joins)")->wait();
  comm.barrier();  // never completes either: on NCCL, wait() above does not block the host
  throw core::DistError("the all-reduce completed without rank 1", "bench comm --inject-hang");
}

}  // namespace

cli::Action setup_comm(CLI::App& sub) {
  auto o = std::make_shared<Options>();
  sub.description("All-reduce bandwidth per size and overlapped gradient synchronisation; run under mpirun");
  sub.add_option("config", o->config.file, "run config for the model shapes and dist.* (default configs/ankh-small.yaml)");
  sub.add_option("overrides", o->config.overrides, "section.key=value overrides, e.g. dist.bucket_mb=8")
      ->expected(0, -1);
  sub.add_option("--sizes", o->sizes, "all-reduce message sizes in bytes (K, M, G suffixes)")
      ->delimiter(',')
      ->capture_default_str();
  sub.add_option("--iters", o->iters, "timed all-reduces per size")->check(CLI::PositiveNumber)->capture_default_str();
  sub.add_option("--warmup", o->warmup, "untimed all-reduces per size first")->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub.add_option("--steps", o->steps, "timed GradSync steps per mode and round")->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.add_option("--rounds", o->rounds, "rounds of (baseline, overlap off, overlap on)")->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.add_option("--tokens", o->tokens, "tokens per stand-in backward (sets the compute to overlap with)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli::add_choice(sub, "--device", o->device, parallel::device_kinds(), "auto: CUDA when available");
  sub.add_flag("--skip-grad-sync", o->skip_grad_sync, "only the all-reduce sweep");
  sub.add_flag("--inject-hang", o->inject_hang,
               "watchdog test: rank 1 never joins an all-reduce; the job must exit non-zero after dist.timeout_s");
  return [o]() -> int {
    std::vector<int64_t> sizes;
    for (const auto& text : o->sizes) sizes.push_back(parse_size(text));
    parallel::MpiSession mpi;
    core::setup_logging({mpi.rank(), mpi.world_size(), spdlog::level::info, std::nullopt});
    if (o->config.file.empty()) o->config.file = "configs/ankh-small.yaml";
    const trainer::RunConfig config = o->config.load();
    const torch::Device device = parallel::choose_device(o->device, mpi.local_rank(), "--device");
    auto comm = parallel::make_communicator(config.dist, mpi, device);
    if (o->inject_hang) return inject_hang(*comm, config.dist);
    bench_all_reduce(*comm, sizes, *o);
    if (!o->skip_grad_sync) bench_grad_sync(*comm, config, *o);
    comm->barrier();
    return 0;
  };
}

}  // namespace ankh::bench
