#include "trainer/metrics/metrics_log.h"

#include <sstream>

#include "core/error.h"
#include "core/files.h"

namespace ankh::metrics {

namespace fs = std::filesystem;

MetricsLog::MetricsLog(const fs::path& file, bool enabled, int64_t resume_step) : path_(file), enabled_(enabled) {
  if (!enabled_) return;
  fs::create_directories(path_.parent_path());
  if (resume_step >= 0 && fs::exists(path_)) {
    // Keep what happened up to the checkpoint; what came after it is about to happen again.
    std::string kept;
    std::istringstream in(core::read_file(path_));
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      const auto record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (record.is_discarded()) continue;  // a torn last line from a crash
      if (record.contains("step") && record["step"].is_number_integer() && record["step"].get<int64_t>() > resume_step)
        continue;
      kept += line + "\n";
    }
    core::write_file_atomic(path_, kept);
  }
  out_.open(path_, std::ios::app);
  if (!out_) throw core::IoError("cannot open the metrics log for appending", path_.string());
}

void MetricsLog::write(const nlohmann::json& record) {
  if (!enabled_) return;
  out_ << record.dump() << '\n';
  out_.flush();
  if (!out_) throw core::IoError("cannot write the metrics log (disk full?)", path_.string());
}

std::vector<nlohmann::json> read_metrics(const fs::path& file) {
  std::vector<nlohmann::json> records;
  const std::string text = core::read_file(file);
  std::istringstream in(text);
  int line_number = 0;
  std::size_t consumed = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    consumed += line.size() + 1;
    if (line.empty()) continue;
    auto record = nlohmann::json::parse(line, nullptr, false);
    if (record.is_discarded()) {
      if (consumed >= text.size() && text.back() != '\n') break;  // a torn last line: the run crashed mid-write
      throw core::InputError("not a JSON object", file.string() + ":" + std::to_string(line_number));
    }
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace ankh::metrics
