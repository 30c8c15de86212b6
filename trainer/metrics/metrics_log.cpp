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
  if (resume_step < 0 && fs::exists(path_)) {
    // A line torn by a crash would end up between records once we append: cut it off.
    const std::string text = core::read_file(path_);
    if (!text.empty() && text.back() != '\n') core::write_file_atomic(path_, text.substr(0, text.rfind('\n') + 1));
  }
  out_.open(path_, std::ios::app);
  if (!out_) throw core::IoError("cannot open the metrics log for appending", path_.string());
}

void MetricsLog::write(const Record& record) {
  if (!enabled_) return;
  out_ << to_json(record).dump() << '\n';
  out_.flush();
  if (!out_) throw core::IoError("cannot write the metrics log (disk full?)", path_.string());
}

std::vector<Record> read_records(const fs::path& file) {
  std::vector<Record> records;
  const std::string text = core::read_file(file);
  std::istringstream in(text);
  int line_number = 0;
  std::size_t consumed = 0;
  const std::size_t last_line = text.find_last_not_of('\n') == std::string::npos
                                    ? 0
                                    : text.rfind('\n', text.find_last_not_of('\n')) + 1;  // start of the last non-empty line
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    const std::size_t start = consumed;
    consumed += line.size() + 1;
    if (line.empty()) continue;
    const auto object = nlohmann::json::parse(line, nullptr, false);
    const std::string where = file.string() + ":" + std::to_string(line_number);
    if (object.is_discarded()) {
      if (start >= last_line) break;  // a torn last line: the run was killed mid-write
      throw core::InputError("not a JSON object", where);
    }
    if (auto record = from_json(object, where)) records.push_back(std::move(*record));
  }
  return records;
}

}  // namespace ankh::metrics
