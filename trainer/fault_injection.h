// Deliberate failures for tests of the failure paths (a rank that throws mid-run, a crash
// between writing a checkpoint's tensors and committing it). Driven by the environment variable
//   ANKH_INJECT_FAULT=<kind>[@step=N][@rank=R]
// e.g. "throw@step=5@rank=1" or "crash_before_commit@step=20". Unset in normal runs: then every
// check is one integer comparison.
#pragma once

#include <cstdint>
#include <string>

namespace ankh::trainer {

enum class FaultKind { None, Throw, Hang, CrashBeforeCommit };

class FaultInjection {
 public:
  // Reads ANKH_INJECT_FAULT; UsageError on a malformed value.
  static FaultInjection from_environment();

  // True when `kind` is injected at this step on this rank.
  bool at(FaultKind kind, int64_t step, int rank) const;
  // Throws TrainingError / hangs forever when injected for this step and rank.
  void maybe_throw_or_hang(int64_t step, int rank) const;
  FaultKind kind() const { return kind_; }

 private:
  FaultKind kind_ = FaultKind::None;
  int64_t step_ = -1;  // -1: any step
  int rank_ = -1;      // -1: any rank
};

}  // namespace ankh::trainer
