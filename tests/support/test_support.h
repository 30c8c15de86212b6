// Helpers shared by the test suites: paths, scratch directories, running the ankh binary.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "trainer/model/model.h"
#include "trainer/model/model_config.h"
#include "trainer/run_config.h"

namespace ankh::testing {

// The source tree (configs/, scripts/), from ANKH_SOURCE_DIR or the working directory.
std::filesystem::path source_dir();
// The built `ankh` executable: ANKH_BINARY, else BUILD/bin/ankh of the running test's build.
std::filesystem::path ankh_binary();

// A fresh directory under the system temp dir, removed when the object goes away.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix = "ankh-test");
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Writes `text` to `path` (creating parent directories).
void write_text(const std::filesystem::path& path, const std::string& text);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
// Runs a shell command line, capturing its output.
CommandResult run_command(const std::string& command_line);

// describe() of the core::Error that `f` throws; "" when it throws none.
std::string error_of(const std::function<void()>& f);

// describe() of the exception of exactly type E that `f` throws; a test failure when none is.
template <class E, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.describe();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

// The tiny model the model and training tests share: d_model 32, 4 heads x 8, d_ff 64, 2 + 2
// layers, 16 buckets up to distance 32, fp32.
model::ModelConfig tiny_model_config();
// configs/ankh-tiny.yaml shrunk to a model that trains and exports in milliseconds (d_model 32,
// 2 heads x 16, d_ff 48, 2 + 2 layers, fp32), writing to `run_dir`; `extra` overrides last.
trainer::RunConfig tiny_run_config(const std::filesystem::path& run_dir, const std::vector<std::string>& extra = {});

// A model of `config` in eval mode whose every parameter (RMSNorm weights included) is its seeded
// initialisation plus `spread` x N(0, 1) noise: far enough from the initial state that positions,
// residues and padding change the outputs, which is what inference tests compare.
model::T5Model perturbed_model(const model::ModelConfig& config, uint64_t seed, double spread);

// Residue ids of a string of residue letters.
std::vector<uint8_t> residue_ids(const std::string& residues);

// scripts/check_hf_export.py on an exported directory, run by Debian's python3 (which has
// numpy once scripts/setup.sh ran); and whether that python3 has numpy at all.
CommandResult check_hf_export(const std::filesystem::path& dir);
bool python_has_numpy();

}  // namespace ankh::testing
