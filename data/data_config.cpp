#include "data/data_config.h"

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
                                                  {ObjectiveKind::FullReconstruction, "full_reconstruction"}};
  return table;
}

void ObjectiveConfig::visit(core::FieldVisitor& v) {
  v.section("objective", "pre-training objective");
  core::choice(v, "kind", kind, objective_kinds(),
           "ankh: 1-gram partial demasking; t5_span: T5 span corruption; full_reconstruction: ProtT5-style");
  v.field("mask_prob", mask_prob, Bounds::open(0, 1), "fraction of residues masked (t5_span: noise density)");
  v.field("mean_span_length", mean_span_length, Bounds::at_least(1), "mean masked span length (t5_span only)");
}

void ObjectiveConfig::validate(core::IssueList& issues) const {}

}  // namespace ankh::data
