// What every fuzz target shares: the rule that decides what a crash is, and a scratch directory for
// the parsers that only read paths.
//
// The rule (docs/development.md#fuzzing): a malformed user file must end in a core::Error, which
// says what, where and how to fix it, and which `main` reports with exit status 1. So a target
// swallows core::Error and nothing else: any other exception (std::out_of_range, a json
// type_error, a YAML::Exception, a c10::Error) would reach the user as an "internal error" and is
// reported as a crash, with its type and message, and the input that caused it kept by libFuzzer.
// Sanitizer reports, timeouts and memory blow-ups are crashes too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <typeinfo>

#include "core/error.h"

namespace ankh::fuzz {

// Quiets logging once per process (warnings about an input are expected, and slow at 10^4 runs/s).
void init_once();

// Reports an exception that is not a core::Error and aborts, so that libFuzzer keeps the input.
[[noreturn]] void not_a_user_error(const char* type, const char* what);

// Runs `parse()`: a core::Error is the expected outcome of a malformed input; anything else crashes.
template <class F>
void expect_clean(F&& parse) {
  init_once();
  try {
    parse();
  } catch (const core::Error&) {
    // the user sees what, where and a hint: the parser did its job
  } catch (const std::exception& e) {
    not_a_user_error(typeid(e).name(), e.what());
  } catch (...) {
    not_a_user_error("(not a std::exception)", "");
  }
}

// This process's scratch directory (under $TMPDIR), created on first use, removed at exit.
const std::filesystem::path& scratch_dir();

// Writes `size` bytes to scratch_dir()/name, replacing it; returns the path.
std::filesystem::path write_scratch(const std::string& name, std::string_view bytes);

inline std::string_view as_text(const uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace ankh::fuzz
