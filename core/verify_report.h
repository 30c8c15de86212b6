// What `ankh verify` found in a dataset, a checkpoint, a run or an export: every problem (not
// only the first), with where it is, and what was read. Callers that cannot go on past a
// problem (`data.verify: full`) turn the report into one error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ankh::core {

struct Problem {
  std::string where;  // a file, a file:key, a shard and sequence
  std::string what;
};

// How a verifier reads: the same for datasets and checkpoints.
struct VerifyOptions {
  int threads = 0;        // reader threads; 0: the host's
  bool progress = false;  // a progress bar over the bytes (stderr)
};

struct VerifyReport {
  std::string kind;                 // "dataset", "checkpoint", "run", "Hugging Face export"
  std::vector<Problem> problems;
  std::vector<std::string> notes;   // worth saying, not wrong (an uncommitted checkpoint, a leftover file)
  int64_t files = 0;                // files read
  uint64_t bytes = 0;               // bytes read
  double seconds = 0;

  void add(std::string where, std::string what) { problems.push_back({std::move(where), std::move(what)}); }
  bool ok() const { return problems.empty(); }
};

// An InputError whose message lists the report's problems (the first ten, then how many more).
[[noreturn]] void throw_problems(const VerifyReport& report, const std::string& where, const std::string& hint);

}  // namespace ankh::core
