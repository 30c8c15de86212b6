#include "core/logging.h"

#include <chrono>
#include <vector>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "core/error.h"

namespace ankh::core {

namespace {
std::string pattern_for(int rank) { return "[%Y-%m-%d %H:%M:%S.%e] [rank " + std::to_string(rank) + "] [%^%l%$] %v"; }

// Files are written through stdio buffers: without a flush, a run that is killed (SIGKILL, the
// out-of-memory killer, a scheduler's hard limit) leaves its log empty, just when it is needed.
// Warnings and errors are flushed at once, everything else at least this often.
constexpr auto kFlushInterval = std::chrono::seconds(2);

// Installs `logger` as the default one. Replacing the logger (rather than adding a sink to the
// one in use) keeps the periodic flush, which walks the registered loggers under spdlog's
// registry lock, from seeing a sink list being resized.
void install(std::shared_ptr<spdlog::logger> logger) {
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  spdlog::flush_every(kFlushInterval);
}
}  // namespace

void setup_logging(const LogSetup& setup) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_level(setup.rank == 0 ? setup.level : spdlog::level::err);
  std::vector<spdlog::sink_ptr> sinks{console};
  if (setup.file) {
    std::filesystem::create_directories(setup.file->parent_path());
    auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(setup.file->string(), false);
    file->set_level(spdlog::level::trace);
    sinks.push_back(file);
  }
  auto logger = std::make_shared<spdlog::logger>("ankh", sinks.begin(), sinks.end());
  logger->set_level(std::min(setup.level, spdlog::level::debug));
  logger->set_pattern(pattern_for(setup.rank));
  install(std::move(logger));
}

void set_log_rank(int rank) {
  auto logger = spdlog::default_logger();
  for (auto& sink : logger->sinks())
    if (rank != 0 && std::dynamic_pointer_cast<spdlog::sinks::stderr_color_sink_mt>(sink))
      sink->set_level(spdlog::level::err);
  logger->set_pattern(pattern_for(rank));
}

void add_log_file(const std::filesystem::path& run_dir, int rank) {
  const auto path = run_dir / "logs" / ("rank-" + std::to_string(rank) + ".log");
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) throw IoError("cannot create the log directory: " + ec.message(), path.parent_path().string());
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path.string(), false);
  file->set_level(spdlog::level::trace);
  file->set_pattern(pattern_for(rank));
  const auto current = spdlog::default_logger();
  std::vector<spdlog::sink_ptr> sinks = current->sinks();
  sinks.push_back(std::move(file));
  auto logger = std::make_shared<spdlog::logger>(current->name(), sinks.begin(), sinks.end());
  logger->set_level(current->level());
  install(std::move(logger));
}

spdlog::level::level_enum parse_log_level(const std::string& name) {
  for (auto level : {spdlog::level::trace, spdlog::level::debug, spdlog::level::info, spdlog::level::warn,
                     spdlog::level::err, spdlog::level::critical, spdlog::level::off}) {
    if (name == spdlog::level::to_string_view(level).data()) return level;
  }
  if (name == "warning") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  throw UsageError("unknown log level '" + name + "'", "--log-level",
                   "one of trace, debug, info, warn, error, critical, off");
}

}  // namespace ankh::core
