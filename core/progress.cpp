#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

#include <spdlog/spdlog.h>

#include "core/strings.h"

namespace ankh::core {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
}  // namespace

Progress::Progress(std::string label, int64_t total, std::string unit, int64_t total_bytes)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      total_bytes_(total_bytes),
      interactive_(isatty(STDERR_FILENO) != 0),
      start_(Clock::now()),
      last_(start_) {}

Progress::~Progress() {
  if (interactive_ && !finished_ && items_ > 0) std::fputc('\n', stderr);
}

void Progress::advance(int64_t items, int64_t bytes) {
  items_ += items;
  bytes_ += bytes;
  const auto now = Clock::now();
  const double since = seconds_between(last_, now);
  if (since < (interactive_ ? 0.2 : 10.0)) return;
  last_ = now;
  render(false);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  render(true);
}

void Progress::render(bool final_line) {
  const double elapsed = std::max(1e-9, seconds_between(start_, Clock::now()));
  const double mb_per_s = bytes_ / elapsed / 1e6;
  double fraction = -1;
  if (total_bytes_ > 0) fraction = static_cast<double>(bytes_) / total_bytes_;
  else if (total_ > 0) fraction = static_cast<double>(items_) / total_;

  std::string line = label_ + ": " + format_count(items_);
  if (total_ > 0) line += "/" + format_count(total_);
  line += " " + unit_;
  char buf[128];
  std::snprintf(buf, sizeof buf, ", %.0f %s/s", items_ / elapsed, unit_.c_str());
  line += buf;
  if (bytes_ > 0) {
    std::snprintf(buf, sizeof buf, ", %.1f MB/s", mb_per_s);
    line += buf;
  }
  if (fraction >= 0 && !final_line) {
    const double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : -1;
    std::snprintf(buf, sizeof buf, ", %3.0f%%, ETA %s", 100 * std::min(1.0, fraction), format_duration(eta).c_str());
    line += buf;
  }
  if (final_line) line += ", " + format_duration(elapsed) + " elapsed";

  if (interactive_) {
    const int width = 24;
    std::string bar;
    if (fraction >= 0) {
      const int filled = static_cast<int>(std::min(1.0, fraction) * width);
      bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
    }
    std::fprintf(stderr, "\r\033[K%s%s%s", bar.c_str(), line.c_str(), final_line ? "\n" : "");
    std::fflush(stderr);
  } else {
    spdlog::info("{}", line);
  }
}

}  // namespace ankh::core
