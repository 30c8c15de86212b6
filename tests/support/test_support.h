// Helpers shared by the test suites: paths, scratch directories, running the ankh binary.
#pragma once

#include <filesystem>
#include <string>

namespace ankh::testing {

// The source tree (configs/, scripts/), from ANKH_SOURCE_DIR or the working directory.
std::filesystem::path source_dir();
// The built `ankh` executable, from ANKH_BINARY.
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

}  // namespace ankh::testing
