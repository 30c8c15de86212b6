#include "trainer/fault_injection.h"

#include <chrono>
#include <cstdlib>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/choices.h"
#include "core/strings.h"

namespace ankh::trainer {

FaultInjection FaultInjection::from_environment() {
  FaultInjection f;
  const char* text = std::getenv("ANKH_INJECT_FAULT");
  if (!text || !*text) return f;
  const auto parts = core::split(text, '@');
  static const core::Choices<FaultKind> kinds{
      {FaultKind::Throw, "throw"}, {FaultKind::Hang, "hang"}, {FaultKind::CrashBeforeCommit, "crash_before_commit"}};
  const auto kind = kinds.parse(parts[0]);
  if (!kind)
    throw core::UsageError("unknown fault kind '" + parts[0] + "'", "ANKH_INJECT_FAULT",
                           core::join(kinds.names(), ", ") + ", e.g. throw@step=5@rank=1");
  f.kind_ = *kind;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const auto kv = core::split(parts[i], '=');
    const auto value = kv.size() == 2 ? core::parse_int(kv[1]) : std::nullopt;
    if (!value || (kv[0] != "step" && kv[0] != "rank"))
      throw core::UsageError("malformed '" + parts[i] + "'", "ANKH_INJECT_FAULT", "use step=N or rank=R");
    if (kv[0] == "step") f.step_ = *value;
    else f.rank_ = static_cast<int>(*value);
  }
  spdlog::warn("fault injection active: {}", text);
  return f;
}

bool FaultInjection::at(FaultKind kind, int64_t step, int rank) const {
  return kind_ == kind && (step_ < 0 || step_ == step) && (rank_ < 0 || rank_ == rank);
}

void FaultInjection::maybe_throw_or_hang(int64_t step, int rank) const {
  if (at(FaultKind::Throw, step, rank))
    throw core::TrainingError("injected failure at step " + std::to_string(step), "rank " + std::to_string(rank),
                              "ANKH_INJECT_FAULT is set");
  if (at(FaultKind::Hang, step, rank)) {
    spdlog::warn("injected hang at step {} on rank {}", step, rank);
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  }
}

}  // namespace ankh::trainer
