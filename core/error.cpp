#include "core/error.h"

#include <sstream>

namespace ankh::core {

namespace {
std::string join_where(const std::string& where, const std::string& what) {
  return where.empty() ? what : where + ": " + what;
}
}  // namespace

Error::Error(std::string what, std::string where, std::string hint)
    : std::runtime_error(join_where(where, what)),
      what_(std::move(what)),
      where_(std::move(where)),
      hint_(std::move(hint)) {}

std::string Error::describe() const {
  std::string out = join_where(where_, what_);
  if (!hint_.empty()) out += "\n  hint: " + hint_;
  return out;
}

namespace {
std::string summarise(const std::vector<ConfigIssue>& issues) {
  std::ostringstream os;
  os << issues.size() << (issues.size() == 1 ? " problem" : " problems") << " in the configuration";
  return os.str();
}
}  // namespace

ConfigError::ConfigError(std::vector<ConfigIssue> issues)
    : Error(summarise(issues)), issues_(std::move(issues)) {}

std::string ConfigError::describe() const {
  std::ostringstream os;
  os << what_text() << ":";
  for (const auto& issue : issues_) {
    os << "\n  - ";
    if (!issue.origin.empty()) os << issue.origin << ": ";
    if (!issue.key.empty()) os << issue.key << ": ";
    os << issue.message;
    if (!issue.hint.empty()) os << " (" << issue.hint << ")";
  }
  return os.str();
}

void IssueList::add(std::string key, std::string origin, std::string message, std::string hint) {
  issues_.push_back({std::move(key), std::move(origin), std::move(message), std::move(hint)});
}

void IssueList::throw_if_any() const {
  if (!issues_.empty()) throw ConfigError(issues_);
}

}  // namespace ankh::core
