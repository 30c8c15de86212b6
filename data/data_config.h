// Configuration of the data pipeline (`data:` section) and of the pre-training objective
// (`objective:` section).
#pragma once

#include <cstdint>
#include <string>

#include "core/choices.h"
#include "core/config_fields.h"
#include "core/error.h"

namespace ankh::data {

// The pre-training objective (docs/architecture.md, "Objectives").
enum class ObjectiveKind { Ankh, T5Span, FullReconstruction };
const core::Choices<ObjectiveKind>& objective_kinds();  // ankh | t5_span | full_reconstruction
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

struct ObjectiveConfig {
  ObjectiveKind kind = ObjectiveKind::Ankh;
  double mask_prob = 0.2;          // fraction of residues masked (t5_span: noise density)
  double mean_span_length = 3.0;   // t5_span only

  void visit(core::FieldVisitor& v);
  void validate(core::IssueList& issues) const;
};

}  // namespace ankh::data
