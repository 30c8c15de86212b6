// The layers a resolved config is made of: defaults < YAML file (after its `base:` chain) <
// `section.key=value` overrides. A ConfigSource holds the file and override layers flattened to
// dotted keys, each value remembering where it came from, so errors can name file:line.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"

namespace YAML {
class Node;
}

namespace ankh::core {

struct Setting {
  std::string value;      // scalar text (empty when null); a list or map as one line of flow YAML
  bool is_null = false;   // `key:` with no value
  bool is_scalar = true;  // false for a list or map (a list-valued key reads `value`)
  std::string origin;     // "configs/run.yaml:12" or "command line"
};

// The setting a YAML node gives a key (lists and maps as flow YAML in `value`).
Setting setting_of(const YAML::Node& node, std::string origin);

class ConfigSource {
 public:
  // Reads a YAML config; files named by its `base:` key (a path or a list of paths, relative to
  // the file) are read first, recursively, so that this file overrides them.
  void add_file(const std::filesystem::path& file);
  // Applies one "section.key=value" assignment; the value is read as YAML (a scalar, or a list
  // or map such as objective.mixture=[{kind: ankh}]).
  void add_override(const std::string& assignment, const std::string& origin = "command line");
  // Sets one key directly (sweeps compose runs this way).
  void set(const std::string& key, Setting setting);

  const std::map<std::string, Setting>& settings() const { return settings_; }
  const Setting* find(const std::string& key) const;
  // The settings (and reading problems) of one section alone: what reads one section of a stored
  // config (a checkpoint's model:) without being tied to the keys of every other section.
  ConfigSource only_section(const std::string& section) const;
  // Every file read, bases first.
  const std::vector<std::filesystem::path>& files() const { return files_; }
  // Problems met while reading layers (malformed assignments, `base:` misuse). They are reported
  // together with the validation problems, so one run shows them all.
  const IssueList& issues() const { return issues_; }

 private:
  void read_file(const std::filesystem::path& file, std::vector<std::filesystem::path>& chain);

  std::map<std::string, Setting> settings_;
  std::vector<std::filesystem::path> files_;
  IssueList issues_;
};

}  // namespace ankh::core
