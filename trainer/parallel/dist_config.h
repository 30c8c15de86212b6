// Distributed data-parallel settings (`dist:` section).
#pragma once

#include <cstdint>
#include <string>

#include "core/config_fields.h"
#include "core/error.h"

namespace ankh::parallel {

struct DistConfig {
  std::string backend = "auto";  // auto | nccl | mpi
  double bucket_mb = 25;         // gradient bucket size
  bool overlap = true;           // all-reduce buckets during backward
  double timeout_s = 600;        // watchdog: abort a collective stuck this long

  void visit(core::FieldVisitor& v);
  void validate(core::IssueList& issues) const;
};

}  // namespace ankh::parallel
