#include "trainer/app/sweep/sweep_file.h"

#include <yaml-cpp/yaml.h>

#include <set>
#include <tuple>

#include "core/error.h"
#include "core/strings.h"
#include "trainer/probe/probe_task.h"

namespace ankh::sweep {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kTopLevelKeys = {"base", "overrides", "grid", "variants", "probes"};

std::string origin_of(const fs::path& file, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return file.string();
  return file.string() + ":" + std::to_string(mark.line + 1);
}

YAML::Node load(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec))
    throw core::IoError("sweep file not found", file.string(), "give a path to a sweep YAML file, e.g. configs/sweeps/quick.yaml");
  if (fs::is_directory(file, ec)) throw core::IoError("is a directory, not a sweep file", file.string());
  try {
    return YAML::LoadFile(file.string());
  } catch (const YAML::BadFile&) {
    throw core::IoError("cannot read sweep file", file.string(), "check its permissions");
  } catch (const YAML::Exception& e) {
    const std::string where = file.string() + (e.mark.line >= 0 ? ":" + std::to_string(e.mark.line + 1) : "");
    throw core::ConfigError({{"", where, "invalid YAML: " + e.msg, ""}});
  }
}

class Reader {
 public:
  Reader(const fs::path& file, core::IssueList& issues) : file_(file), issues_(issues) {}

  // `section.key: value` maps, nested or dotted, flattened to dotted keys. A value that is a list
  // stays one value (a list-valued key's, e.g. objective.mixture); a grid axis reads its list as
  // the values to sweep.
  void flatten(const YAML::Node& map, const std::string& prefix, const std::string& where,
               std::vector<std::pair<std::string, YAML::Node>>& out, std::set<std::string>& seen) {
    for (const auto& kv : map) {
      if (!kv.first.IsScalar() || kv.first.Scalar().empty()) {
        issues_.add(prefix, origin_of(file_, kv.first), "in " + where + ": a key must be a non-empty name");
        continue;
      }
      const std::string key = prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar();
      if (kv.second.IsMap()) {
        flatten(kv.second, key, where, out, seen);
        continue;
      }
      if (!seen.insert(key).second) {
        issues_.add(key, origin_of(file_, kv.first), "in " + where + ": given twice", "keep one of them");
        continue;
      }
      out.emplace_back(key, kv.second);
    }
  }

  std::vector<Assignment> assignments(const YAML::Node& map, const std::string& where) {
    std::vector<std::pair<std::string, YAML::Node>> flat;
    std::set<std::string> seen;
    flatten(map, "", where, flat, seen);
    // A list is one value here, for a key that takes a list (objective.mask_prob: [0.15, 0.3]);
    // whether the key takes one is the config reader's check, when the planner resolves the runs.
    std::vector<Assignment> out;
    for (const auto& [key, node] : flat) out.push_back({key, core::setting_of(node, origin_of(file_, node))});
    return out;
  }

  std::vector<GridAxis> grid(const YAML::Node& map) {
    std::vector<std::pair<std::string, YAML::Node>> flat;
    std::set<std::string> seen;
    flatten(map, "", "grid", flat, seen);
    std::vector<GridAxis> axes;
    for (const auto& [key, node] : flat) {
      if (!node.IsSequence()) {
        issues_.add(key, origin_of(file_, node), "in grid: expected a list of values",
                    "e.g. " + key + ": [a, b]; a single value belongs under overrides:");
        continue;
      }
      if (node.size() == 0) {
        issues_.add(key, origin_of(file_, node), "in grid: the list of values is empty", "give at least one value");
        continue;
      }
      // A value may itself be a list, for a key that takes one: `objective.mask_prob: [0.2,
      // [0.15, 0.3]]`. Values are compared by their text (a list's as one line of flow YAML).
      GridAxis axis{key, {}};
      std::set<std::tuple<bool, bool, std::string>> values;
      for (const auto& v : node) {
        core::Setting value = core::setting_of(v, origin_of(file_, v));
        if (!values.emplace(value.is_null, value.is_scalar, value.value).second) {
          issues_.add(key, value.origin, "in grid: value '" + (value.is_null ? "null" : value.value) + "' is listed twice");
          continue;
        }
        axis.values.push_back(std::move(value));
      }
      axes.push_back(std::move(axis));
    }
    return axes;
  }

 private:
  const fs::path& file_;
  core::IssueList& issues_;
};

// `probes: [TASK.yaml, ...]`, relative to the sweep file; each read strictly here, so that a bad
// task file stops the sweep before any run starts.
void read_probes(const fs::path& path, const YAML::Node& node, SweepFile& sweep, core::IssueList& issues) {
  if (!node.IsSequence()) {
    issues.add("probes", origin_of(path, node), "expected a list of probe task files",
               "e.g. probes: [../probes/go-mfo.yaml]");
    return;
  }
  for (const auto& entry : node) {
    if (!entry.IsScalar() || entry.Scalar().empty()) {
      issues.add("probes", origin_of(path, entry), "expected the path of a probe task file");
      continue;
    }
    const fs::path task = path.parent_path() / entry.Scalar();
    try {
      probe::load_probe_task(task);
      sweep.probes.push_back(task);
    } catch (const core::Error& e) {
      issues.add("probes", origin_of(path, entry), e.describe());
    }
  }
}

}  // namespace

SweepFile read_sweep_file(const fs::path& path) {
  SweepFile sweep;
  sweep.path = path;
  const YAML::Node root = load(path);
  core::IssueList issues;
  Reader reader(path, issues);
  if (!root.IsMap()) {
    throw core::ConfigError({{"", origin_of(path, root),
                              "a sweep file must be a map with base:, overrides:, grid: and/or variants:", ""}});
  }

  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    bool known = false;
    for (const auto& k : kTopLevelKeys) known = known || k == key;
    if (known) continue;
    const auto near = core::nearest(key, kTopLevelKeys);
    std::string hint = near ? "did you mean " + *near + "?" : "a sweep file has base:, overrides:, grid: and variants:";
    if (key.find('.') != std::string::npos) hint = "config keys belong under overrides:, grid: or variants:";
    issues.add(key, origin_of(path, kv.first), "unknown key in a sweep file", hint);
  }

  const YAML::Node base = root["base"];
  if (!base) {
    issues.add("base", path.string(), "missing: a sweep needs a base run config", "e.g. base: ../demo.yaml");
  } else if (!base.IsScalar() || base.Scalar().empty()) {
    issues.add("base", origin_of(path, base), "expected the path of a run config");
  } else {
    sweep.base = path.parent_path() / base.Scalar();
    sweep.base_origin = origin_of(path, base);
    std::error_code ec;
    if (!fs::is_regular_file(sweep.base, ec))
      issues.add("base", sweep.base_origin, "run config not found: " + sweep.base.string(),
                 "the path is relative to the sweep file's directory");
  }

  if (const YAML::Node o = root["overrides"]; o && !o.IsNull()) {
    if (o.IsMap())
      sweep.overrides = reader.assignments(o, "overrides");
    else
      issues.add("overrides", origin_of(path, o), "expected a map of key: value", "e.g. overrides: {train.max_steps: 40}");
  }
  if (const YAML::Node g = root["grid"]; g && !g.IsNull()) {
    if (g.IsMap())
      sweep.grid = reader.grid(g);
    else
      issues.add("grid", origin_of(path, g), "expected a map of key: [values]", "e.g. grid: {objective.mask_prob: [0.1, 0.2]}");
  }
  if (const YAML::Node v = root["variants"]; v && !v.IsNull()) {
    if (!v.IsSequence()) {
      issues.add("variants", origin_of(path, v), "expected a list of maps", "e.g. variants: [{model.activation: relu}]");
    } else {
      for (const auto& entry : v) {
        if (entry.IsNull() || (entry.IsMap() && entry.size() == 0)) {  // `- {}`: the base as it is
          sweep.variants.emplace_back();
        } else if (!entry.IsMap()) {
          issues.add("variants", origin_of(path, entry), "every variant must be a map of key: value");
          continue;
        } else {
          sweep.variants.push_back(reader.assignments(entry, "a variant"));
        }
        sweep.variant_origins.push_back(origin_of(path, entry));
      }
      if (v.size() == 0) issues.add("variants", origin_of(path, v), "the list of variants is empty");
    }
  }
  if (const YAML::Node p = root["probes"]; p && !p.IsNull()) read_probes(path, p, sweep, issues);
  if (sweep.grid.empty() && sweep.variants.empty() && issues.empty())
    issues.add("grid", path.string(), "nothing to sweep: give grid: and/or variants:",
               "a single run is `ankh train CONFIG`");
  issues.throw_if_any();
  return sweep;
}

}  // namespace ankh::sweep
