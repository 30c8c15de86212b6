#include "trainer/parallel/dist_config.h"

namespace ankh::parallel {

const core::Choices<Backend>& backends() {
  static const core::Choices<Backend> table{{Backend::Auto, "auto"}, {Backend::Nccl, "nccl"}, {Backend::Mpi, "mpi"}};
  return table;
}

using core::Bounds;

void DistConfig::visit(core::FieldVisitor& v) {
  v.section("dist", "data-parallel communication");
  core::choice(v, "backend", backend, backends(), "auto: NCCL on CUDA devices, MPI on CPU");
  v.field("bucket_mb", bucket_mb, Bounds::above(0), "gradient bucket size in MiB");
  v.field("overlap", overlap, "all-reduce each bucket during backward as soon as its gradients are ready");
  v.field("timeout_s", timeout_s, Bounds::above(0), "abort the job when a collective is stuck this long");
}

void DistConfig::validate(core::IssueList& issues) const {}

}  // namespace ankh::parallel
