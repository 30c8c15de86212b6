#include "core/verify_report.h"

#include "core/error.h"

namespace ankh::core {

void throw_problems(const VerifyReport& report, const std::string& where, const std::string& hint) {
  constexpr std::size_t kShown = 10;
  std::string what = std::to_string(report.problems.size()) + " problem" + (report.problems.size() == 1 ? "" : "s") +
                     " in the " + report.kind + ":";
  for (std::size_t i = 0; i < report.problems.size() && i < kShown; ++i)
    what += "\n  " + report.problems[i].where + ": " + report.problems[i].what;
  if (report.problems.size() > kShown) what += "\n  … and " + std::to_string(report.problems.size() - kShown) + " more";
  throw InputError(what, where, hint);
}

}  // namespace ankh::core
