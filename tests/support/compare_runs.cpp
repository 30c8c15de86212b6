// ankh_compare_runs: the checks behind the training scenario tests (tests/train/*.sh).
//
//   ankh_compare_runs losses RUN_A RUN_B --rtol R [--from S] [--to T]
//       the "train" losses of both runs' metrics.jsonl, step by step (log_every=1 runs)
//   ankh_compare_runs params CHECKPOINT_A CHECKPOINT_B --rtol R
//       every tensor of model.safetensors: max |a-b| <= R * max |b| per tensor
//
// --rtol 0 asks for bit-identical values. Prints the largest relative difference found and exits
// 1 on a mismatch (naming the step or tensor), 2 on bad input.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "checkpoints/checkpoint_dir.h"

namespace {

std::map<int64_t, double> train_losses(const std::filesystem::path& run, int64_t from, int64_t to) {
  std::ifstream in(run / "metrics.jsonl");
  if (!in) throw std::runtime_error("cannot read " + (run / "metrics.jsonl").string());
  std::map<int64_t, double> losses;
  std::string line;
  while (std::getline(in, line)) {
    const auto record = nlohmann::json::parse(line);
    if (record.at("event") != "train") continue;
    const int64_t step = record.at("step");
    if (step >= from && step <= to) losses[step] = record.at("loss").get<double>();
  }
  return losses;
}

double relative(double a, double b) {
  if (a == b) return 0;
  return std::fabs(a - b) / std::max(std::fabs(b), 1e-30);
}

int compare_losses(const std::string& a, const std::string& b, double rtol, int64_t from, int64_t to) {
  const auto la = train_losses(a, from, to), lb = train_losses(b, from, to);
  if (la.empty()) throw std::runtime_error(a + ": no train records in steps " + std::to_string(from) + ".." + std::to_string(to));
  if (la.size() != lb.size()) {
    std::printf("different steps logged: %zu in %s, %zu in %s\n", la.size(), a.c_str(), lb.size(), b.c_str());
    return 1;
  }
  double worst = 0;
  for (const auto& [step, loss] : la) {
    const auto it = lb.find(step);
    if (it == lb.end()) {
      std::printf("step %lld is missing from %s\n", static_cast<long long>(step), b.c_str());
      return 1;
    }
    const double r = relative(loss, it->second);
    worst = std::max(worst, r);
    if (r > rtol) {
      std::printf("step %lld: loss %.17g vs %.17g (relative difference %.3g > %.3g)\n", static_cast<long long>(step),
                  loss, it->second, r, rtol);
      return 1;
    }
  }
  std::printf("%zu steps compared, largest relative loss difference %.3g (rtol %.3g)\n", la.size(), worst, rtol);
  return 0;
}

int compare_params(const std::string& a, const std::string& b, double rtol) {
  const auto ta = ankh::checkpoints::CheckpointReader::open(a).load_tensors("model.safetensors");
  const auto tb = ankh::checkpoints::CheckpointReader::open(b).load_tensors("model.safetensors");
  if (ta.size() != tb.size()) {
    std::printf("%zu tensors in %s, %zu in %s\n", ta.size(), a.c_str(), tb.size(), b.c_str());
    return 1;
  }
  double worst = 0;
  for (const auto& [name, x] : ta) {
    const auto it = tb.find(name);
    if (it == tb.end() || !x.sizes().equals(it->second.sizes())) {
      std::printf("tensor %s missing or of another shape in %s\n", name.c_str(), b.c_str());
      return 1;
    }
    const auto xa = x.to(torch::kFloat64), xb = it->second.to(torch::kFloat64);
    const double diff = (xa - xb).abs().max().item<double>();
    const double scale = std::max(xb.abs().max().item<double>(), 1e-30);
    const double r = diff / scale;
    worst = std::max(worst, r);
    if (r > rtol || (rtol == 0 && !torch::equal(x, it->second))) {
      std::printf("tensor %s: max |a-b| %.3g = %.3g of max |b| (> %.3g)\n", name.c_str(), diff, r, rtol);
      return 1;
    }
  }
  std::printf("%zu tensors compared, largest relative difference %.3g (rtol %.3g)\n", ta.size(), worst, rtol);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("compare two ankh runs or checkpoints");
  app.require_subcommand(1);
  std::string a, b;
  double rtol = 0;
  int64_t from = 1, to = INT64_MAX;
  auto* losses = app.add_subcommand("losses", "per-step train losses of two run directories");
  losses->add_option("run_a", a)->required();
  losses->add_option("run_b", b)->required();
  losses->add_option("--rtol", rtol)->required();
  losses->add_option("--from", from);
  losses->add_option("--to", to);
  auto* params = app.add_subcommand("params", "model tensors of two checkpoints");
  params->add_option("checkpoint_a", a)->required();
  params->add_option("checkpoint_b", b)->required();
  params->add_option("--rtol", rtol)->required();
  CLI11_PARSE(app, argc, argv);
  try {
    if (losses->parsed()) return compare_losses(a, b, rtol, from, to);
    return compare_params(a, b, rtol);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ankh_compare_runs: %s\n", e.what());
    return 2;
  }
}
