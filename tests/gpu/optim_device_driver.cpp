// trainer/optim on a CUDA machine, built by tests/gpu/optim_device_check.sh against the installed
// PyTorch's LibTorch (not part of the CMake build: it needs no dependency but LibTorch).
//   optim_device_driver parity DIR    runs four optimizer variants and clipping on the inputs that
//                                     optim_hf_check.py wrote to DIR, writes the results there
//   optim_device_driver bench PRESET  times one step of each optimizer, and clipping, on the
//                                     parameters of ankh-base or ankh-large (HF T5 names and shapes),
//                                     each against the straightforward per-tensor way as baseline
#include <torch/torch.h>
#include <torch/cuda.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "trainer/optim/adafactor.h"
#include "trainer/optim/clip.h"
#include "trainer/optim/optimizer.h"
#include "trainer/optim/schedule.h"

using namespace ankh::optim;

static torch::Device dev() { return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU); }

static torch::Tensor read_bin(const std::string& path, const std::vector<int64_t>& shape) {
  std::ifstream in(path, std::ios::binary);
  int64_t n = 1;
  for (auto d : shape) n *= d;
  std::vector<float> buf(n);
  in.read(reinterpret_cast<char*>(buf.data()), n * 4);
  if (!in) throw std::runtime_error("short read " + path);
  return torch::from_blob(buf.data(), shape, torch::kFloat32).clone().to(dev());
}

static void write_bin(const std::string& path, const torch::Tensor& t) {
  torch::Tensor c = t.to(torch::kCPU, torch::kFloat32).contiguous();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(c.data_ptr<float>()), c.numel() * 4);
}

static OptimConfig variant(const std::string& v) {
  OptimConfig c;
  if (v == "adafactor_ankh") {
    c.name = "adafactor";
  } else if (v == "adafactor_hf") {
    c.name = "adafactor";
    c.adafactor_relative_step = true;
    c.adafactor_scale_parameter = true;
  } else if (v == "adafactor_mom_wd") {
    c.name = "adafactor";
    c.adafactor_beta1 = 0.9;
    c.adafactor_scale_parameter = true;
    c.weight_decay = 0.01;
  } else if (v == "adamw") {
    c.name = "adamw";
    c.weight_decay = 0.1;
    c.beta1 = 0.9;
    c.beta2 = 0.98;
    c.eps = 1e-8;
  } else {
    throw std::runtime_error("variant " + v);
  }
  return c;
}

static int parity(const std::string& dir) {
  std::ifstream meta(dir + "/meta.txt");
  int steps = 0;
  std::string word;
  meta >> word >> steps;
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> shapes;
  std::string line;
  std::getline(meta, line);
  while (std::getline(meta, line)) {
    if (line.empty()) continue;
    std::istringstream s(line);
    std::string name;
    int nd;
    s >> name >> nd;
    std::vector<int64_t> shape(nd);
    for (auto& d : shape) s >> d;
    names.push_back(name);
    shapes.push_back(shape);
  }
  for (const std::string v : {"adafactor_ankh", "adafactor_hf", "adafactor_mom_wd", "adamw"}) {
    NamedParams params;
    for (size_t i = 0; i < names.size(); ++i)
      params.emplace_back(names[i], read_bin(dir + "/p_" + std::to_string(i) + ".bin", shapes[i]));
    auto opt = make_optimizer(variant(v), params);
    for (int t = 1; t <= steps; ++t) {
      for (size_t i = 0; i < names.size(); ++i)
        params[i].second.mutable_grad() =
            read_bin(dir + "/g_" + std::to_string(i) + "_" + std::to_string(t) + ".bin", shapes[i]);
      opt->step(1e-2 * (0.5 + t / 10.0));
    }
    for (size_t i = 0; i < names.size(); ++i) write_bin(dir + "/out_" + v + "_" + std::to_string(i) + ".bin", params[i].second);
  }
  // Clipping on the step-1 gradients.
  std::vector<torch::Tensor> grads;
  for (size_t i = 0; i < names.size(); ++i) grads.push_back(read_bin(dir + "/g_" + std::to_string(i) + "_1.bin", shapes[i]));
  const double norm = clip_grad_norm(grads, 0.5);
  std::ofstream(dir + "/clip_norm.txt") << std::setprecision(17) << norm << "\n";
  for (size_t i = 0; i < names.size(); ++i) write_bin(dir + "/clip_" + std::to_string(i) + ".bin", grads[i]);
  // bf16 gradients through the fp32-accumulating path.
  std::vector<torch::Tensor> half;
  for (size_t i = 0; i < names.size(); ++i) half.push_back(read_bin(dir + "/g_" + std::to_string(i) + "_1.bin", shapes[i]).to(torch::kBFloat16));
  std::ofstream(dir + "/clip_norm_bf16.txt") << std::setprecision(17) << clip_grad_norm(half, 0.0) << "\n";
  std::printf("parity: wrote outputs for %zu parameters, %d steps on %s\n", names.size(), steps, dev().str().c_str());
  return 0;
}

// T5 v1.1 parameters (HF names and shapes).
static NamedParams t5_params(int64_t d, int64_t h, int64_t dkv, int64_t dff, int enc, int dec, torch::ScalarType dt) {
  NamedParams out;
  auto add = [&](const std::string& n, std::vector<int64_t> s) {
    out.emplace_back(n, torch::randn(s, torch::TensorOptions().device(dev()).dtype(dt)) * 0.02);
  };
  const int64_t inner = h * dkv;
  add("shared.weight", {144, d});
  for (int stack = 0; stack < 2; ++stack) {
    const std::string p = stack == 0 ? "encoder" : "decoder";
    const int layers = stack == 0 ? enc : dec;
    for (int b = 0; b < layers; ++b) {
      const std::string blk = p + ".block." + std::to_string(b) + ".layer.";
      auto attn = [&](const std::string& l, const std::string& kind, bool rel) {
        for (const char* m : {"q", "k", "v"}) add(blk + l + "." + kind + "." + m + ".weight", {inner, d});
        add(blk + l + "." + kind + ".o.weight", {d, inner});
        if (rel) add(blk + l + "." + kind + ".relative_attention_bias.weight", {64, h});
        add(blk + l + ".layer_norm.weight", {d});
      };
      attn("0", "SelfAttention", b == 0);
      std::string ff = "1";
      if (stack == 1) {
        attn("1", "EncDecAttention", false);
        ff = "2";
      }
      add(blk + ff + ".DenseReluDense.wi_0.weight", {dff, d});
      add(blk + ff + ".DenseReluDense.wi_1.weight", {dff, d});
      add(blk + ff + ".DenseReluDense.wo.weight", {d, dff});
      add(blk + ff + ".layer_norm.weight", {d});
    }
    add(p + ".final_layer_norm.weight", {d});
  }
  add("lm_head.weight", {144, d});
  return out;
}

static void device_sync() {
  if (torch::cuda::is_available()) torch::cuda::synchronize();
}

template <typename F>
static double time_ms(F&& f, int reps) {
  for (int i = 0; i < 3; ++i) f();
  device_sync();
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) f();
  device_sync();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
}

static int bench(const std::string& preset) {
  NamedParams params;
  if (preset == "ankh-base") {
    params = t5_params(768, 12, 64, 3072, 48, 24, torch::kFloat32);
  } else if (preset == "ankh-large") {
    params = t5_params(1536, 16, 64, 3840, 48, 24, torch::kFloat32);
  } else {
    throw std::runtime_error("unknown preset " + preset + " (ankh-base or ankh-large)");
  }
  int64_t n = 0;
  for (auto& [name, p] : params) {
    n += p.numel();
    p.mutable_grad() = torch::randn_like(p) * 1e-3;
  }
  std::printf("bench %s: %zu tensors, %lld parameters, device %s\n", preset.c_str(), params.size(), (long long)n,
              dev().str().c_str());
  const int reps = 10;
  {
    auto ours = make_optimizer(variant("adamw"), params);
    const double ms = time_ms([&] { ours->step(1e-4); }, reps);
    ours.reset();
    std::vector<torch::Tensor> ps;
    for (auto& [name, p] : params) ps.push_back(p);
    torch::optim::AdamW ref(ps, torch::optim::AdamWOptions(1e-4).weight_decay(0.1));
    const double ref_ms = time_ms([&] { ref.step(); }, reps);
    std::printf("adamw step: ours %.2f ms, torch::optim::AdamW (C++, per tensor) %.2f ms, speedup x%.2f\n", ms, ref_ms,
                ref_ms / ms);
  }
  for (const std::string v : {"adafactor_ankh", "adafactor_mom_wd"}) {
    double ms = 0, alone_ms = 0;
    {
      Adafactor grouped(variant(v), params);
      ms = time_ms([&] { grouped.step(1e-3); }, reps);
    }
    {
      Adafactor alone(variant(v), params, /*max_group_elements=*/0);
      alone_ms = time_ms([&] { alone.step(1e-3); }, reps);
    }
    std::printf("%s step: ours (grouped) %.2f ms, per parameter %.2f ms, speedup x%.2f\n", v.c_str(), ms, alone_ms,
                alone_ms / ms);
  }
  {
    std::vector<torch::Tensor> grads;
    for (auto& [name, p] : params) grads.push_back(p.grad());
    const double ms = time_ms([&] { clip_grad_norm(grads, 1e9); }, reps);
    // Baseline: the straightforward loop, one norm and one host sync per tensor.
    const double loop_ms = time_ms(
        [&] {
          double s = 0;
          for (auto& g : grads) {
            const double v = g.norm().item<double>();
            s += v * v;
          }
          (void)s;
        },
        reps);
    std::printf("grad norm: ours %.3f ms, per-tensor .item() loop %.3f ms, speedup x%.2f\n", ms, loop_ms, loop_ms / ms);
  }
  return 0;
}

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "parity") return parity(argv[2]);
    if (mode == "bench") return bench(argc > 2 ? argv[2] : "ankh-base");
    std::fprintf(stderr, "usage: driver parity DIR | bench PRESET\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
