// Logging set-up: rank-prefixed lines; rank 0 logs to the console, every rank to its own file
// (RUN/logs/rank-N.log). Library code logs through spdlog's default logger. Files are flushed on
// every warning or error and at least every 2 seconds, so a killed run's log is complete up to its
// last seconds.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>

namespace ankh::core {

struct LogSetup {
  int rank = 0;
  int world_size = 1;
  spdlog::level::level_enum level = spdlog::level::info;
  // Every rank also writes here when set (the training run directory's logs/rank-N.log).
  std::optional<std::filesystem::path> file;
};

// Replaces the default logger. Ranks other than 0 only print errors to the console, so that a
// failing rank is visible while the console stays readable.
void setup_logging(const LogSetup& setup);

// Once a command knows its rank: rank-prefixed lines, and ranks other than 0 print only errors to
// the console. Keeps the level chosen with --log-level.
void set_log_rank(int rank);

// Adds RUN/logs/rank-N.log to the current default logger (once the run directory is known).
void add_log_file(const std::filesystem::path& run_dir, int rank);

// "info" -> level; throws UsageError naming the valid levels.
spdlog::level::level_enum parse_log_level(const std::string& name);

}  // namespace ankh::core
