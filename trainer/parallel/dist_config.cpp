#include "trainer/parallel/dist_config.h"

namespace ankh::parallel {

using core::Bounds;

void DistConfig::visit(core::FieldVisitor& v) {
  v.section("dist", "data-parallel communication");
  v.choice("backend", backend, {"auto", "nccl", "mpi"}, "auto: NCCL on CUDA devices, MPI on CPU");
  v.field("bucket_mb", bucket_mb, Bounds::above(0), "gradient bucket size in MiB");
  v.field("overlap", overlap, "all-reduce each bucket during backward as soon as its gradients are ready");
  v.field("timeout_s", timeout_s, Bounds::above(0), "abort the job when a collective is stuck this long");
}

void DistConfig::validate(core::IssueList& issues) const {}

}  // namespace ankh::parallel
