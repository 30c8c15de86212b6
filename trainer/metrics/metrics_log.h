// RUN/metrics.jsonl: one record per line (records.h), written by rank 0 and flushed per line so
// that a crash loses nothing already logged; and its reader.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "trainer/metrics/records.h"

namespace ankh::metrics {

class MetricsLog {
 public:
  // `enabled` is false on ranks other than 0 (they write nothing). On resume from `resume_step`,
  // lines of steps after it (logged before the interruption, about to be redone) are dropped.
  MetricsLog(const std::filesystem::path& file, bool enabled, int64_t resume_step = -1);

  void write(const Record& record);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  bool enabled_;
  std::ofstream out_;
};

// Every record of a metrics.jsonl, in order. A torn last line (the run was killed mid-write) is
// ignored, as are events this version does not know; InputError naming file:line for a line that
// is not a record.
std::vector<Record> read_records(const std::filesystem::path& file);

}  // namespace ankh::metrics
