// The shared part of the fuzz targets: quiet logging, the crash report for exceptions that are not
// core::Error, and the scratch directory (see support.h).
#include "tests/fuzz/support.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <system_error>

#include <cxxabi.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace ankh::fuzz {

namespace fs = std::filesystem;

void init_once() {
  static const bool done = [] {
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)done;
}

void not_a_user_error(const char* type, const char* what) {
  int status = 0;
  char* readable = abi::__cxa_demangle(type, nullptr, nullptr, &status);
  std::fprintf(stderr, "\n==fuzz== an exception that is not a core::Error escaped the parser: %s: %s\n",
               status == 0 && readable ? readable : type, what);
  std::free(readable);
  std::abort();
}

namespace {
// Created on first use, removed when the process ends normally (a crash leaves it for
// scripts/fuzz.sh, which runs every target inside a temporary TMPDIR of its own).
struct Scratch {
  fs::path dir;
  Scratch() {
    std::string pattern = (fs::temp_directory_path() / "ankh-fuzz-XXXXXX").string();
    if (!mkdtemp(pattern.data())) {
      std::perror("ankh fuzz: mkdtemp");
      std::abort();
    }
    dir = pattern;
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};
}  // namespace

const fs::path& scratch_dir() {
  static const Scratch scratch;
  return scratch.dir;
}

fs::path write_scratch(const std::string& name, std::string_view bytes) {
  const fs::path path = scratch_dir() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) {
    std::fprintf(stderr, "ankh fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

}  // namespace ankh::fuzz
