#include "trainer/app/sweep/sweep_plan.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "data/loader.h"
#include "core/config.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/strings.h"

namespace ankh::sweep {

namespace fs = std::filesystem;

namespace {

std::string leaf_of(const std::string& key) {
  const auto dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

std::string sanitise(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '+' || c == '-';
    out += ok ? c : '_';
  }
  return out;
}

// A value's part of a run name. A list or map (flow YAML) loses its punctuation, and the runs of
// '_' that leaves shrink to one, so that "__" still only separates keys: "[0.15, 0.3]" ->
// "0.15_0.3", "[{kind: ankh, weight: 3}]" -> "kind_ankh_weight_3".
std::string value_part(const core::Setting& value) {
  if (value.is_null) return "null";
  if (value.is_scalar) return sanitise(value.value);
  std::string out;
  for (char c : sanitise(value.value))
    if (c != '_' || (!out.empty() && out.back() != '_')) out += c;
  if (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "empty" : out;
}

std::string short_hash(const std::string& text) { return fmt::format("{:08x}", core::hash_bytes(text) & 0xffffffffULL); }

// The grid's points, last axis fastest (as itertools.product).
std::vector<std::vector<Assignment>> grid_points(const std::vector<GridAxis>& grid) {
  std::vector<std::vector<Assignment>> points{{}};
  for (const auto& axis : grid) {
    std::vector<std::vector<Assignment>> next;
    for (const auto& point : points)
      for (const auto& value : axis.values) {
        auto p = point;
        p.push_back({axis.key, value});
        next.push_back(std::move(p));
      }
    points = std::move(next);
  }
  return points;
}

// Problems of single runs, gathered so that one shared by every run is reported once.
class RunIssues {
 public:
  void add(const core::ConfigIssue& issue, const std::string& run) {
    const std::string id = issue.key + "\n" + issue.origin + "\n" + issue.message;
    auto [it, inserted] = index_.emplace(id, entries_.size());
    if (inserted) entries_.push_back({issue, {}});
    auto& runs = entries_[it->second].runs;
    if (runs.empty() || runs.back() != run) runs.push_back(run);
  }
  void report_into(core::IssueList& issues, std::size_t total_runs) const {
    for (const auto& e : entries_) {
      std::string message = e.issue.message;
      if (e.runs.size() < total_runs) {
        std::vector<std::string> shown(e.runs.begin(), e.runs.begin() + std::min<std::size_t>(e.runs.size(), 3));
        message += " (in run" + std::string(e.runs.size() > 1 ? "s " : " ") + core::join(shown, ", ") +
                   (e.runs.size() > 3 ? fmt::format(" and {} more", e.runs.size() - 3) : "") + ")";
      }
      issues.add(e.issue.key, e.issue.origin, message, e.issue.hint);
    }
  }

 private:
  struct Entry {
    core::ConfigIssue issue;
    std::vector<std::string> runs;
  };
  std::map<std::string, std::size_t> index_;
  std::vector<Entry> entries_;
};

}  // namespace

std::string run_name(const std::vector<Assignment>& varying, const std::vector<std::string>& full_keys,
                     std::size_t max_length) {
  if (varying.empty()) return "base";
  std::vector<std::string> parts;
  std::string full_text;
  for (const auto& a : varying) {
    const bool full = std::find(full_keys.begin(), full_keys.end(), a.key) != full_keys.end();
    parts.push_back(sanitise(full ? a.key : leaf_of(a.key)) + "-" + value_part(a.value));
    full_text += a.key + "=" + a.value.value + "\n";
  }
  std::string name = core::join(parts, "__");
  if (name.size() > max_length) name = name.substr(0, max_length - 9) + "-" + short_hash(full_text);
  return name;
}

std::string describe_overrides(const std::vector<Assignment>& varying) {
  std::vector<std::string> parts;
  for (const auto& a : varying) parts.push_back(a.key + "=" + (a.value.is_null ? "null" : a.value.value));
  return parts.empty() ? "(base)" : core::join(parts, " ");
}

fs::path default_output(const fs::path& sweep_file) { return fs::path("runs") / "sweeps" / sweep_file.stem(); }

namespace {

// Keys the sweep controls itself (run.dir), keys both a grid axis and a variant set, and command
// line overrides of a key the sweep varies: errors before anything is planned.
void check_ownership(const SweepFile& sweep, const std::vector<std::string>& cli_overrides) {
  core::IssueList issues;
  std::set<std::string> grid_keys;
  for (const auto& axis : sweep.grid) grid_keys.insert(axis.key);
  auto check_owned = [&](const std::string& key, const std::string& origin) {
    if (key == "run.dir")
      issues.add(key, origin, "is set by the sweep (each run lives in OUTPUT/NAME)", "choose the sweep directory with --output");
  };
  for (const auto& a : sweep.overrides) check_owned(a.key, a.value.origin);
  for (const auto& axis : sweep.grid) check_owned(axis.key, axis.values.empty() ? "" : axis.values[0].origin);
  for (const auto& variant : sweep.variants)
    for (const auto& a : variant) {
      check_owned(a.key, a.value.origin);
      if (grid_keys.count(a.key))
        issues.add(a.key, a.value.origin, "is both a grid axis and set by a variant",
                   "vary it in one place: drop it from grid: or from the variant");
    }
  for (const auto& o : cli_overrides) {
    const std::string key = o.substr(0, o.find('='));
    check_owned(key, "command line");
    bool varied = grid_keys.count(key) > 0;
    for (const auto& v : sweep.variants)
      for (const auto& a : v) varied = varied || a.key == key;
    if (varied)
      issues.add(key, "command line", "is varied by the sweep; an override for every run would hide that",
                 "edit the sweep file instead");
  }
  issues.throw_if_any();
}

// Every grid point with every variant: the assignments of each run.
std::vector<std::vector<Assignment>> combinations(const SweepFile& sweep) {
  std::vector<std::vector<Assignment>> variants = sweep.variants;
  if (variants.empty()) variants.emplace_back();
  std::vector<std::vector<Assignment>> combos;
  for (const auto& point : grid_points(sweep.grid))
    for (const auto& variant : variants) {
      auto c = point;
      c.insert(c.end(), variant.begin(), variant.end());
      combos.push_back(std::move(c));
    }
  return combos;
}

// One named run per combination; two combinations with the same overrides are an error, and names
// that sanitising made equal get a hash each.
std::vector<PlannedRun> named_runs(const SweepFile& sweep, const std::vector<std::vector<Assignment>>& combos) {
  // Keys whose last component is shared by another varying key are named in full.
  std::map<std::string, std::set<std::string>> by_leaf;
  for (const auto& c : combos)
    for (const auto& a : c) by_leaf[leaf_of(a.key)].insert(a.key);
  std::vector<std::string> full_keys;
  for (const auto& [leaf, keys] : by_leaf)
    if (keys.size() > 1) full_keys.insert(full_keys.end(), keys.begin(), keys.end());

  core::IssueList issues;
  std::vector<PlannedRun> runs;
  std::set<std::string> texts;
  for (const auto& c : combos) {
    const std::string text = describe_overrides(c);
    if (!texts.insert(text).second) {
      issues.add(c.empty() ? "variants" : c.back().key, c.empty() ? sweep.path.string() : c.back().value.origin,
                 "two runs have the same overrides (" + text + ")", "remove the duplicate variant");
      continue;
    }
    PlannedRun run;
    run.varying = c;
    run.name = run_name(c, full_keys);
    runs.push_back(std::move(run));
  }
  issues.throw_if_any();
  std::map<std::string, std::size_t> by_name;
  for (const auto& r : runs) ++by_name[r.name];
  for (auto& r : runs)
    if (by_name[r.name] > 1) r.name += "-" + short_hash(describe_overrides(r.varying));
  return runs;
}

// A list that the sweep file gives a key taking one value (in overrides: or a variant) was
// likely meant as values to sweep: say where those go.
core::ConfigIssue with_grid_hint(core::ConfigIssue issue, const SweepFile& sweep, const PlannedRun& run) {
  if (!issue.hint.empty() || !core::ends_with(issue.message, "got a list or map")) return issue;
  bool listed = false;
  for (const auto* assignments : {&sweep.overrides, &run.varying})
    for (const auto& a : *assignments) listed = listed || (a.key == issue.key && !a.value.is_scalar);
  if (listed) issue.hint = "to run one value after another, list the values under grid:";
  return issue;
}

// Resolves and validates every run's config (base < sweep overrides < command line < the run's own
// values), the batch geometry on `world_size` ranks included; all problems of all runs at once.
void resolve_configs(const SweepFile& sweep, const PlanOptions& options, std::vector<PlannedRun>& runs) {
  RunIssues run_issues;
  for (auto& run : runs) {
    run.dir = options.output / run.name;
    core::ConfigSource source;
    source.add_file(sweep.base);
    for (const auto& a : sweep.overrides) source.set(a.key, a.value);
    for (const auto& o : options.cli_overrides) source.add_override(o);
    for (const auto& a : run.varying) source.set(a.key, a.value);
    source.set("run.dir", core::Setting{run.dir.string(), false, true, "ankh sweep"});
    try {
      run.config = trainer::resolve_run_config(source);
      const core::Setting* set_at = source.find("train.global_batch");
      core::IssueList geometry;
      data::check_batch_geometry(run.config.train.global_batch, run.config.train.micro_batch, options.world_size,
                                 geometry, set_at ? set_at->origin : "");
      for (const auto& issue : geometry.issues()) run_issues.add(issue, run.name);
    } catch (const core::ConfigError& e) {
      for (const auto& issue : e.issues()) run_issues.add(with_grid_hint(issue, sweep, run), run.name);
    }
  }
  core::IssueList issues;
  run_issues.report_into(issues, runs.size());
  issues.throw_if_any();
}

}  // namespace

std::vector<PlannedRun> plan_sweep(const SweepFile& sweep, const PlanOptions& options) {
  check_ownership(sweep, options.cli_overrides);
  std::vector<PlannedRun> runs = named_runs(sweep, combinations(sweep));
  resolve_configs(sweep, options, runs);
  return runs;
}

}  // namespace ankh::sweep
