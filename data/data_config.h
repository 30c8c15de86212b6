// Configuration of the data pipeline (`data:` section) and of the pre-training objective
// (`objective:` section).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/choices.h"
#include "core/config_fields.h"
#include "core/config_source.h"
#include "core/error.h"

namespace ankh::data {

// The pre-training objective (docs/architecture.md, "Objectives").
enum class ObjectiveKind { Ankh, T5Span, FullReconstruction, Completion };
const core::Choices<ObjectiveKind>& objective_kinds();  // ankh | t5_span | full_reconstruction | completion
inline const char* name_of(ObjectiveKind k) { return objective_kinds().name(k); }

// How much of a dataset is read to check it before use (docs/formats.md, "Dataset directory").
enum class Verify {
  Quick,  // structure, sizes, counts, format, vocabulary and the offsets (8 B/sequence); each
          // sequence's tokens are range-checked as they are read
  Full,   // also every shard read whole, as `ankh verify` does (checksums, every token, composition)
};
const core::Choices<Verify>& verify_levels();  // quick | full

struct DataConfig {
  std::string dataset;         // dataset directory written by `ankh preprocess`
  int64_t max_length = 512;    // encoder tokens per sample, counting </s>; longer ones are cropped
  int64_t bucket_window = 16;  // global batches sorted by length together to cut padding
  int64_t prefetch = 4;        // batches the background loader keeps ready
  Verify verify = Verify::Quick;  // what `ankh train` checks at start

  void visit(core::FieldVisitor& v);
  void validate(core::IssueList& issues) const;
};

// One pre-training task: the single objective (`objective.kind`, ...) or one entry of
// `objective.mixture` (docs/configuration.md, "Lists and objective mixtures").
struct TaskConfig {
  ObjectiveKind kind = ObjectiveKind::Ankh;
  double weight = 1.0;                   // mixture entries: relative frequency of the task
  std::vector<double> mask_prob{0.2};    // fraction masked; ankh and full_reconstruction: one value, or
                                         // several of which each sample draws one (t5_span: noise density, one value)
  double mean_span_length = 3.0;         // t5_span only
  std::vector<double> prefix_fraction{0.5};  // completion: the prefix's share of the residues, fixed or [lo, hi]
  int64_t prefix_length = 0;             // completion: a fixed prefix of this many residues (0: prefix_fraction)
  std::string prefix_token;              // a task token prepended to the encoder input ("" for none)

  // Every key, `weight` included: a mixture entry.
  void visit(core::FieldVisitor& v);
  // The keys of the task itself, without `weight`: the single objective.
  void visit_task_keys(core::FieldVisitor& v);
  // Checks across the task's keys; issues are named `prefix` + key ("objective.mixture[1].").
  void validate(const std::string& prefix, core::IssueList& issues) const;
  // The largest masking rate (the one that needs the most sentinels).
  double max_mask_prob() const;
};

struct ObjectiveConfig {
  TaskConfig single;                // the single objective's keys (objective.kind, objective.mask_prob, ...)
  std::vector<TaskConfig> mixture;  // objective.mixture: when non-empty it replaces `single`

  bool is_mixture() const { return !mixture.empty(); }
  // The tasks in mixture order: the mixture's, or the single objective alone (weight 1).
  std::vector<TaskConfig> tasks() const;
  // The config key of a task's setting: "objective.mask_prob", or "objective.mixture[1].mask_prob".
  std::string key_of(std::size_t task, const char* key) const;
  // The distinct task tokens (prefix_token) in order of first use: they get ids 144, 145, ...
  std::vector<std::string> task_tokens() const;
  // Encoder tokens a sample spends besides its residues: </s>, and a task token if any task has one.
  int64_t reserved_input_tokens() const;

  void visit(core::FieldVisitor& v);
  void validate(core::IssueList& issues) const;
};

// Adds an issue for each single-objective key (objective.kind, objective.mask_prob, ...) that
// `source` sets together with a non-empty objective.mixture, naming both and where each was set.
void check_mixture_keys(const core::ConfigSource& source, core::IssueList& issues);

}  // namespace ankh::data
