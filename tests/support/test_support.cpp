#include "tests/support/test_support.h"

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

}  // namespace ankh::testing
