// Progress for long loops: a redrawn bar on a terminal, a plain log line every few seconds
// otherwise (pipes, log files, CI), so that both stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ankh::core {

class Progress {
 public:
  // `total` items (0 when unknown); `unit` names them ("records", "proteins").
  // `total_bytes` (0 when unknown) lets the bar show an ETA from bytes instead of items.
  Progress(std::string label, int64_t total, std::string unit, int64_t total_bytes = 0);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Adds to the counters; redraws at most a few times per second.
  void advance(int64_t items, int64_t bytes = 0);
  // Final line with totals and the average rate.
  void finish();

  bool interactive() const { return interactive_; }

 private:
  void render(bool final_line);

  std::string label_, unit_;
  int64_t total_, total_bytes_;
  int64_t items_ = 0, bytes_ = 0;
  bool interactive_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace ankh::core
