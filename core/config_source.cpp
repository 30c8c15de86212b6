#include "core/config_source.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

namespace ankh::core {

namespace fs = std::filesystem;

namespace {

std::string origin_of(const fs::path& file, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return file.string();
  return file.string() + ":" + std::to_string(mark.line + 1);
}

// Lists and maps are written back as one line of flow YAML, whatever their style in the file, so
// that a Setting stays a line of text (printable, comparable, a sweep run's name) that a
// list-valued key re-parses. The style is set element by element: a node loaded from a block
// list would otherwise be emitted in block style again.
void emit_flow(YAML::Emitter& out, const YAML::Node& node) {
  if (node.IsSequence()) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& item : node) emit_flow(out, item);
    out << YAML::EndSeq;
  } else if (node.IsMap()) {
    out << YAML::Flow << YAML::BeginMap;
    for (const auto& kv : node) {
      out << YAML::Key;
      emit_flow(out, kv.first);
      out << YAML::Value;
      emit_flow(out, kv.second);
    }
    out << YAML::EndMap;
  } else if (node.IsScalar()) {
    out << node.Scalar();  // quoted by the emitter where the text would read differently
  } else {
    out << YAML::Null;
  }
}

}  // namespace

Setting setting_of(const YAML::Node& node, std::string origin) {
  Setting s;
  s.origin = std::move(origin);
  if (node.IsNull()) {
    s.is_null = true;
  } else if (node.IsScalar()) {
    s.value = node.Scalar();
  } else {
    s.is_scalar = false;
    YAML::Emitter out;
    emit_flow(out, node);
    s.value = out.c_str();
  }
  return s;
}

namespace {

void flatten(const YAML::Node& map, const std::string& prefix, const fs::path& file,
             std::map<std::string, Setting>& out) {
  for (const auto& kv : map) {
    const std::string key = prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar();
    if (kv.second.IsMap())
      flatten(kv.second, key, file, out);
    else
      out[key] = setting_of(kv.second, origin_of(file, kv.first));
  }
}

YAML::Node load_yaml(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec))
    throw IoError("config file not found", file.string(),
                  "give a path to a YAML file, e.g. configs/ankh-tiny.yaml");
  if (fs::is_directory(file, ec))
    throw IoError("is a directory, not a config file", file.string());
  try {
    return YAML::LoadFile(file.string());
  } catch (const YAML::BadFile&) {
    throw IoError("cannot read config file", file.string(), "check its permissions");
  } catch (const YAML::Exception& e) {
    const std::string where =
        file.string() + (e.mark.line >= 0 ? ":" + std::to_string(e.mark.line + 1) : "");
    throw ConfigError({{"", where, "invalid YAML: " + e.msg, ""}});
  }
}

}  // namespace

const Setting* ConfigSource::find(const std::string& key) const {
  auto it = settings_.find(key);
  return it == settings_.end() ? nullptr : &it->second;
}

ConfigSource ConfigSource::only_section(const std::string& section) const {
  ConfigSource out;
  out.files_ = files_;
  const std::string prefix = section + ".";
  for (const auto& [key, setting] : settings_)
    if (key.compare(0, prefix.size(), prefix) == 0) out.settings_.emplace(key, setting);
  for (const auto& issue : issues_.issues())
    if (issue.key.compare(0, prefix.size(), prefix) == 0) out.issues_.add(issue.key, issue.origin, issue.message, issue.hint);
  return out;
}

void ConfigSource::add_file(const fs::path& file) {
  std::vector<fs::path> chain;
  read_file(file, chain);
}

void ConfigSource::read_file(const fs::path& file, std::vector<fs::path>& chain) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(file, ec);
  if (std::find(chain.begin(), chain.end(), canonical) != chain.end()) {
    issues_.add("base", file.string(), "base configs form a cycle", "remove one of the `base:` keys");
    return;
  }
  const YAML::Node root = load_yaml(file);
  if (root.IsNull()) {  // an empty file is a valid config that changes nothing
    files_.push_back(file);
    return;
  }
  if (!root.IsMap()) {
    issues_.add("", origin_of(file, root), "a config file must be a map of sections");
    return;
  }

  chain.push_back(canonical);
  if (const YAML::Node base = root["base"]) {
    std::vector<YAML::Node> entries;
    if (base.IsSequence())
      for (const auto& b : base) entries.push_back(b);
    else
      entries.push_back(base);
    for (const auto& b : entries) {
      if (!b.IsScalar() || b.Scalar().empty()) {
        issues_.add("base", origin_of(file, b), "expected a path or a list of paths");
        continue;
      }
      read_file(file.parent_path() / b.Scalar(), chain);
    }
  }
  chain.pop_back();

  files_.push_back(file);
  std::map<std::string, Setting> flat;
  flatten(root, "", file, flat);
  flat.erase("base");
  for (auto& [k, v] : flat) settings_[k] = std::move(v);
}

void ConfigSource::add_override(const std::string& assignment, const std::string& origin) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    issues_.add(assignment, origin, "an override must look like section.key=value",
                "e.g. model.d_model=512");
    return;
  }
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  Setting s;
  s.origin = origin;
  try {
    // Read the value as YAML so that quoting works as in a file ("run.dir='a b'").
    const YAML::Node node = YAML::Load(text);
    s = setting_of(node, origin);
  } catch (const YAML::Exception&) {
    s.value = text;  // not valid YAML on its own: take the text literally
  }
  settings_[key] = std::move(s);
}

void ConfigSource::set(const std::string& key, Setting setting) { settings_[key] = std::move(setting); }

}  // namespace ankh::core
