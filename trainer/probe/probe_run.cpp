#include "trainer/probe/probe_run.h"

#include <cstdio>

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/files.h"
#include "trainer/probe/probe_parts.h"
#include "trainer/probe/blast_db.h"
#include "trainer/probe/prepared_probe.h"

namespace ankh::probe {

namespace fs = std::filesystem;

namespace {

std::string number(double v, int digits = 3) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

std::string with_interval(const nlohmann::json& m, const char* key) {
  const auto& ci = m.at(std::string(key) + "_ci");
  if (ci.size() != 2 || ci[0].is_null()) return number(m.at(key).get<double>());
  return number(m.at(key).get<double>()) + " (" + number(ci[0].get<double>()) + "–" + number(ci[1].get<double>()) + ")";
}

// results.md: one row per method, the probed source first.
std::string markdown(const nlohmann::json& results, ProbeKind kind) {
  const auto& probe = results.at("probe");
  std::string md = "# Probe " + probe.at("task").get<std::string>() + " of " + probe.at("source").get<std::string>() +
                   "\n\n" + probe.at("features").get<std::string>() + "; " +
                   std::to_string(probe.at("lookup").get<int64_t>()) + " lookup/training and " +
                   std::to_string(probe.at("query").get<int64_t>()) + " query/test proteins.\n\n";
  if (kind == ProbeKind::GoTransfer) md += "| method | Fmax | threshold | precision | recall | coverage |\n|---|---|---|---|---|---|\n";
  else md += "| method | accuracy (95 % CI) | macro-F1 (95 % CI) |\n|---|---|---|\n";
  std::vector<std::string> methods = {"source"};  // the probed source first, then the baselines
  for (const auto& [method, m] : results.items())
    if (method != "source" && method != "probe") methods.push_back(method);
  for (const auto& method : methods) {
    const auto& m = results.at(method);
    if (kind == ProbeKind::GoTransfer)
      md += "| " + method + " | " + number(m.at("fmax")) + " | " + number(m.at("threshold"), 2) + " | " +
            number(m.at("precision")) + " | " + number(m.at("recall")) + " | " + number(m.at("coverage")) + " |\n";
    else
      md += "| " + method + " | " + with_interval(m, "accuracy") + " | " + with_interval(m, "macro_f1") + " |\n";
  }
  return md;
}

}  // namespace

std::unique_ptr<PreparedProbe> prepare_probe(const ProbeTask& task, const fs::path& work_dir) {
  return task.kind == ProbeKind::GoTransfer ? prepare_go_transfer(task, work_dir) : prepare_classification(task, work_dir);
}

std::map<std::string, double> headline_metrics(const nlohmann::json& results, const std::string& method) {
  std::map<std::string, double> out;
  if (!results.contains(method)) return out;
  for (const char* key : {"fmax", "coverage", "accuracy", "macro_f1"})
    if (results[method].contains(key) && results[method][key].is_number()) out[key] = results[method][key].get<double>();
  return out;
}

ProbeRunResult run_probe(const ProbeRunOptions& o) {
  fs::create_directories(o.output);
  const auto probe = prepare_probe(o.task, o.output / "work");
  const ProteinSplit& split = probe->split();
  std::vector<Protein> all = split.lookup;
  all.insert(all.end(), split.query.begin(), split.query.end());
  // The probed proteins themselves, lookup (training) first: what another tool needs to embed
  // exactly the same set (queries.txt names the query part of a go_transfer task).
  write_fasta(o.output / "proteins.fasta", all);
  const Features features = protein_features(o.source, all, o.features, o.output / "features.safetensors");
  spdlog::info("features: {} ({} dimensions; {})", features.description, features.values.size(1),
               features.cached ? "cached" : "computed in " + number(features.seconds, 1) + " s");
  const auto n = static_cast<int64_t>(split.lookup.size());
  ScoreOptions score;
  score.output = o.output;
  score.blast = o.blast;
  score.threads = o.threads;
  const ProbeScores s = probe->score(features.values.slice(0, 0, n), features.values.slice(0, n), score);

  ProbeRunResult r;
  r.results = s.results;
  r.feature_seconds = features.seconds;
  r.fit_seconds = s.fit_seconds;
  r.baseline_seconds = s.baseline_seconds;
  r.results["probe"] = {{"task", o.task.name},
                        {"kind", probe_kinds().name(o.task.kind)},
                        {"task_file", o.task.file.string()},
                        {"task_config", task_yaml(o.task)},
                        {"source", o.source.text},
                        {"features", features.description},
                        {"step", features.step},
                        {"dimensions", features.values.size(1)},
                        {"features_cached", features.cached},
                        {"lookup", split.lookup.size()},
                        {"query", split.query.size()},
                        {"proteins_read", split.counts.read},
                        {"left_out", {{"unlabelled", split.counts.unlabelled},
                                      {"too_long", split.counts.too_long},
                                      {"duplicates", split.counts.duplicates}}},
                        {"seconds", {{"features", r.feature_seconds}, {"probe", r.fit_seconds},
                                     {"baselines", r.baseline_seconds}}}};
  r.results["probe"].update(probe->details());
  core::write_file_atomic(o.output / "results.json", r.results.dump(2) + "\n");
  core::write_file_atomic(o.output / "results.md", markdown(r.results, o.task.kind));
  return r;
}

nlohmann::json read_probe_results(const fs::path& results_json) {
  try {
    return nlohmann::json::parse(core::read_file(results_json));
  } catch (const nlohmann::json::exception& e) {
    throw core::InputError(std::string("not a probe results file: ") + e.what(), results_json.string());
  }
}

}  // namespace ankh::probe
