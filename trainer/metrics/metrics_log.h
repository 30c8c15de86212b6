// RUN/metrics.jsonl: one JSON object per line (training steps, validations, events), written by
// rank 0 and flushed per line so that a crash loses nothing already logged.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace ankh::metrics {

class MetricsLog {
 public:
  // `enabled` is false on ranks other than 0 (they write nothing). On resume from `resume_step`,
  // lines of steps after it (logged before the interruption, about to be redone) are dropped.
  MetricsLog(const std::filesystem::path& file, bool enabled, int64_t resume_step = -1);

  void write(const nlohmann::json& record);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  bool enabled_;
  std::ofstream out_;
};

// Reads every record of a metrics.jsonl (sweeps, tests); InputError naming file:line on bad JSON.
std::vector<nlohmann::json> read_metrics(const std::filesystem::path& file);

}  // namespace ankh::metrics
