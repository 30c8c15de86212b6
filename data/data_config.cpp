#include "data/data_config.h"

#include <algorithm>

#include "core/config.h"
#include "core/strings.h"
#include "data/vocab.h"

namespace ankh::data {

using core::Bounds;

void DataConfig::visit(core::FieldVisitor& v) {
  v.section("data", "dataset and batching");
  v.field("dataset", dataset, "dataset directory written by `ankh preprocess` (manifest.yaml + shards)");
  v.field("max_length", max_length, Bounds::closed(2, 1 << 20),
          "encoder tokens per sample, counting </s>; longer sequences are cropped at a random offset");
  v.field("bucket_window", bucket_window, Bounds::at_least(1),
          "global batches whose samples are sorted by length together, to cut padding");
  v.field("prefetch", prefetch, Bounds::at_least(1), "batches the background loader prepares ahead");
  core::choice(v, "verify", verify, verify_levels(),
               "what `ankh train` checks at start. quick: the manifest, shard structure and offsets (tokens are "
               "range-checked as read); full: also reads every shard once as `ankh verify` does");
}

const core::Choices<Verify>& verify_levels() {
  static const core::Choices<Verify> table{{Verify::Quick, "quick"}, {Verify::Full, "full"}};
  return table;
}

void DataConfig::validate(core::IssueList& issues) const {}

const core::Choices<ObjectiveKind>& objective_kinds() {
  static const core::Choices<ObjectiveKind> table{{ObjectiveKind::Ankh, "ankh"},
                                                  {ObjectiveKind::T5Span, "t5_span"},
                                                  {ObjectiveKind::FullReconstruction, "full_reconstruction"},
                                                  {ObjectiveKind::Completion, "completion"}};
  return table;
}

namespace {

void visit_task(TaskConfig& t, core::FieldVisitor& v, bool with_weight) {
  core::choice(v, "kind", t.kind, objective_kinds(),
               "ankh: 1-gram partial demasking; t5_span: T5 span corruption; full_reconstruction: ProtT5-style; "
               "completion: the encoder reads a prefix, the decoder writes the rest");
  if (with_weight) v.field("weight", t.weight, Bounds::above(0), "relative frequency of this task in the mixture");
  v.field("mask_prob", t.mask_prob, Bounds::open(0, 1),
          "fraction of residues masked (t5_span: noise density); ankh and full_reconstruction also take a list, "
          "of which each sample draws one value, e.g. [0.15, 0.2, 0.3]");
  v.field("mean_span_length", t.mean_span_length, Bounds::at_least(1), "mean masked span length (t5_span only)");
  v.field("prefix_fraction", t.prefix_fraction, Bounds::open(0, 1),
          "completion: share of the residues the encoder reads, fixed (0.5) or drawn per sample from [lo, hi]");
  v.field("prefix_length", t.prefix_length, Bounds::at_least(0),
          "completion: a fixed prefix of this many residues instead of prefix_fraction (0: use prefix_fraction)");
  v.field("prefix_token", t.prefix_token,
          "task token prepended to the encoder input, e.g. \"[S2S]\" (a new vocabulary entry after Ankh's 144; empty: none)");
}

}  // namespace

void TaskConfig::visit(core::FieldVisitor& v) { visit_task(*this, v, true); }

void TaskConfig::visit_task_keys(core::FieldVisitor& v) { visit_task(*this, v, false); }

double TaskConfig::max_mask_prob() const { return *std::max_element(mask_prob.begin(), mask_prob.end()); }

void TaskConfig::validate(const std::string& prefix, core::IssueList& issues) const {
  if (kind == ObjectiveKind::T5Span && mask_prob.size() > 1)
    issues.add(prefix + "mask_prob", "", "t5_span takes one noise density, not a list of " + std::to_string(mask_prob.size()),
               "give one value, or use kind ankh or full_reconstruction for multi-rate masking");
  if (prefix_fraction.size() > 2)
    issues.add(prefix + "prefix_fraction", "", "expected one value or [lo, hi], got " + std::to_string(prefix_fraction.size()) + " values");
  else if (prefix_fraction.size() == 2 && prefix_fraction[0] > prefix_fraction[1])
    issues.add(prefix + "prefix_fraction", "",
               "[" + core::format_double(prefix_fraction[0]) + ", " + core::format_double(prefix_fraction[1]) + "]: lo is above hi");
  if (!prefix_token.empty()) {
    const std::string problem = task_token_problem(prefix_token);
    if (!problem.empty()) issues.add(prefix + "prefix_token", "", "'" + prefix_token + "': " + problem, "e.g. \"[S2S]\"");
  }
}

std::vector<TaskConfig> ObjectiveConfig::tasks() const {
  if (is_mixture()) return mixture;
  TaskConfig t = single;
  t.weight = 1;
  return {t};
}

std::string ObjectiveConfig::key_of(std::size_t task, const char* key) const {
  if (!is_mixture()) return std::string("objective.") + key;
  return "objective.mixture[" + std::to_string(task) + "]." + key;
}

std::vector<std::string> ObjectiveConfig::task_tokens() const {
  std::vector<std::string> tokens;
  for (const auto& t : tasks())
    if (!t.prefix_token.empty() && std::find(tokens.begin(), tokens.end(), t.prefix_token) == tokens.end())
      tokens.push_back(t.prefix_token);
  return tokens;
}

int64_t ObjectiveConfig::reserved_input_tokens() const { return task_tokens().empty() ? 1 : 2; }

void ObjectiveConfig::visit(core::FieldVisitor& v) {
  v.section("objective", "pre-training objective: one (kind, mask_prob, ...) or a mixture of tasks");
  v.omit_when_printing(is_mixture());  // replaced by the mixture: a printed config must read back
  single.visit_task_keys(v);
  v.omit_when_printing(false);
  core::ListOf<TaskConfig> tasks(mixture);
  v.list("mixture", tasks,
         "tasks drawn per sample by weight, each with the keys of a single objective and `weight`, e.g. "
         "[{kind: ankh, weight: 3, mask_prob: [0.15, 0.3]}, {kind: completion, weight: 1, prefix_token: \"[S2S]\"}]; "
         "replaces the single-objective keys");
}

void ObjectiveConfig::validate(core::IssueList& issues) const {
  const auto all = tasks();
  for (std::size_t i = 0; i < all.size(); ++i) {
    const std::string kind = key_of(i, "kind");
    all[i].validate(kind.substr(0, kind.size() - 4), issues);
  }
  const auto tokens = task_tokens();
  if (static_cast<int64_t>(tokens.size()) > kMaxTaskTokens)
    issues.add("objective.mixture", "", std::to_string(tokens.size()) + " distinct task tokens; at most " + std::to_string(kMaxTaskTokens));
}

void check_mixture_keys(const core::ConfigSource& source, core::IssueList& issues) {
  const core::Setting* mixture = source.find("objective.mixture");
  if (!mixture || mixture->is_null || (mixture->is_scalar && mixture->value.empty()) || mixture->value == "[]") return;
  TaskConfig defaults;
  const core::Schema single = core::build_schema([&](core::FieldVisitor& v) { defaults.visit_task_keys(v); });
  for (const auto& key : single.keys())
    if (const core::Setting* s = source.find("objective." + key))
      issues.add("objective." + key, s->origin,
                 "is a single-objective key, but objective.mixture is set as well (" + mixture->origin + ")",
                 "move it into the mixture's tasks, or remove objective.mixture");
}

}  // namespace ankh::data
