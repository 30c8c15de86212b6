#include "checkpoints/commit_marker.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace ankh::checkpoints {

namespace {
constexpr const char* kFormatName = "ankh-checkpoint";
}

std::string CommitMarker::to_json() const {
  nlohmann::json j;
  j["format"] = kFormatName;
  j["format_version"] = format_version;
  j["step"] = step;
  nlohmann::json& out = j["files"] = nlohmann::json::object();
  for (const auto& [name, digest] : files) out[name] = {{"bytes", digest.bytes}, {"xxh64", to_hex(digest.xxh64)}};
  return j.dump(2) + "\n";
}

CommitMarker CommitMarker::parse(const std::string& text, const std::string& where) {
  const std::string hint = "the commit marker is damaged: use another checkpoint";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for a number past a double (1e606)
    throw core::CheckpointError(std::string("commit marker is not valid JSON: ") + e.what(), where, hint);
  }
  // A "format" of another type is not ours either (json::value() would throw a type_error for it).
  const auto format = j.is_object() ? j.find("format") : j.end();
  if (format == j.end() || !format->is_string() || format->get<std::string>() != kFormatName)
    throw core::CheckpointError(std::string("not an ankh commit marker (no \"format\": \"") + kFormatName + "\")", where, hint);
  CommitMarker m;
  const auto version = j.find("format_version");
  const auto step = j.find("step");
  const auto files = j.find("files");
  if (version == j.end() || !version->is_number_integer() || step == j.end() || !step->is_number_integer() ||
      files == j.end() || !files->is_object())
    throw core::CheckpointError("commit marker lacks an integer format_version, an integer step or a files object", where, hint);
  m.format_version = version->get<int>();
  m.step = step->get<int64_t>();
  for (auto it = files->begin(); it != files->end(); ++it) {
    const nlohmann::json& f = it.value();
    FileDigest d;
    if (!f.is_object() || !f.contains("bytes") || !f["bytes"].is_number_unsigned() || !f.contains("xxh64") ||
        !f["xxh64"].is_string() || !parse_hex(f["xxh64"].get<std::string>(), d.xxh64))
      throw core::CheckpointError("commit marker entry of '" + it.key() + "' needs bytes and a 16-digit hex xxh64", where, hint);
    d.bytes = f["bytes"].get<uint64_t>();
    m.files.emplace(it.key(), d);
  }
  return m;
}

}  // namespace ankh::checkpoints
