// `ankh bench NAME`: benchmarks, each in its own bench_<name>.cpp, listed in bench_registry.cpp.
// A benchmark measures its baseline in the same run and prints ratios against it, plus a
// Markdown table row that docs/performance.md records with the command that produced it.
#pragma once

#include <vector>

#include "trainer/app/cli/command.h"

namespace ankh::bench {

struct Benchmark {
  const char* name;
  const char* summary;
  cli::Action (*setup)(CLI::App& sub);
};

const std::vector<Benchmark>& benchmarks();

}  // namespace ankh::bench
