// Distributed data-parallel settings (`dist:` section).
#pragma once

#include <cstdint>
#include <string>

#include "core/choices.h"
#include "core/config_fields.h"
#include "core/error.h"

namespace ankh::parallel {

// Who carries the gradients: NCCL (CUDA devices), MPI (CPU), or auto (NCCL on CUDA when built in).
enum class Backend { Auto, Nccl, Mpi };
const core::Choices<Backend>& backends();  // auto | nccl | mpi
inline const char* name_of(Backend b) { return backends().name(b); }

struct DistConfig {
  Backend backend = Backend::Auto;
  double bucket_mb = 25;         // gradient bucket size
  bool overlap = true;           // all-reduce buckets during backward
  double timeout_s = 600;        // watchdog: abort a collective stuck this long

  void visit(core::FieldVisitor& v);
  void validate(core::IssueList& issues) const;
};

}  // namespace ankh::parallel
