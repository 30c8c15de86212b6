// Configuration of the data pipeline (`data:` section) and of the pre-training objective
// (`objective:` section).
#pragma once

#include <cstdint>
#include <string>

#include "core/config_fields.h"
#include "core/error.h"

namespace ankh::data {

struct DataConfig {
  std::string dataset;         // dataset directory written by `ankh preprocess`
  int64_t max_length = 512;    // encoder tokens per sample, counting </s>; longer ones are cropped
  int64_t bucket_window = 16;  // global batches sorted by length together to cut padding
  int64_t prefetch = 4;        // batches the background loader keeps ready

  void visit(core::FieldVisitor& v);
  void validate(core::IssueList& issues) const;
};

struct ObjectiveConfig {
  std::string kind = "ankh";       // ankh | t5_span | full_reconstruction
  double mask_prob = 0.2;          // fraction of residues masked (t5_span: noise density)
  double mean_span_length = 3.0;   // t5_span only

  void visit(core::FieldVisitor& v);
  void validate(core::IssueList& issues) const;
};

}  // namespace ankh::data
