#include "tests/support/test_support.h"

#include "data/vocab.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>

namespace ankh::testing {

namespace fs = std::filesystem;

fs::path source_dir() {
  if (const char* dir = std::getenv("ANKH_SOURCE_DIR")) return dir;
  return fs::current_path();
}

fs::path ankh_binary() {
  if (const char* bin = std::getenv("ANKH_BINARY")) return bin;
  // GoogleTest executables run from BUILD/tests/; the binary of the same build is BUILD/bin/ankh.
  const fs::path sibling = fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "bin" / "ankh";
  if (fs::exists(sibling)) return sibling;
  throw std::runtime_error("ANKH_BINARY is not set and " + sibling.string() + " does not exist (run the tests through ctest)");
}

ScratchDir::ScratchDir(const std::string& prefix) {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    path_ = fs::temp_directory_path() / (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    if (fs::create_directories(path_)) return;
  }
  throw std::runtime_error("cannot create a scratch directory");
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_text(const fs::path& path, const std::string& text) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

CommandResult run_command(const std::string& command_line) {
  CommandResult result;
  FILE* pipe = ::popen((command_line + " 2>&1").c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed for: " + command_line);
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const core::Error& e) {
    return e.describe();
  }
  return "";
}

CommandResult check_hf_export(const fs::path& dir) {
  return run_command("/usr/bin/python3 " + (source_dir() / "scripts/check_hf_export.py").string() + " " + dir.string());
}

bool python_has_numpy() { return run_command("/usr/bin/python3 -c 'import numpy'").exit_code == 0; }

model::ModelConfig tiny_model_config() {
  model::ModelConfig c;
  c.d_model = 32;
  c.num_heads = 4;
  c.d_kv = 8;
  c.d_ff = 64;
  c.encoder_layers = 2;
  c.decoder_layers = 2;
  c.relative_buckets = 16;
  c.relative_max_distance = 32;
  c.precision = model::Precision::Fp32;
  return c;
}

trainer::RunConfig tiny_run_config(const fs::path& run_dir, const std::vector<std::string>& extra) {
  std::vector<std::string> overrides = {"model.d_model=32", "model.num_heads=2", "model.d_kv=16", "model.d_ff=48",
                                        "model.encoder_layers=2", "model.decoder_layers=2", "model.relative_buckets=8",
                                        "model.relative_max_distance=16", "model.precision=fp32",
                                        "run.dir=" + run_dir.string()};
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  return trainer::load_run_config(source_dir() / "configs/ankh-tiny.yaml", overrides);
}

model::T5Model perturbed_model(const model::ModelConfig& config, uint64_t seed, double spread) {
  model::T5Model m(config);
  m->init_weights(seed);
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (auto& p : m->parameters()) p.add_(torch::randn_like(p) * spread);
  m->eval();
  return m;
}

std::vector<uint8_t> residue_ids(const std::string& residues) {
  std::vector<uint8_t> out;
  for (const char c : residues) out.push_back(static_cast<uint8_t>(data::residue_id(static_cast<unsigned char>(c))));
  return out;
}

}  // namespace ankh::testing
