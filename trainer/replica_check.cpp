#include "trainer/replica_check.h"

#include <string>

#include "core/error.h"
#include "core/hash.h"

namespace ankh::trainer {

uint64_t parameter_checksum(const optim::NamedParams& params) {
  uint64_t h = 0;
  for (const auto& [name, p] : params) {
    const auto host = p.detach().to(torch::kCPU).contiguous();
    h = core::hash_bytes(name, h);
    for (const int64_t d : host.sizes()) h = core::hash_words(h, static_cast<uint64_t>(d));
    h = core::hash_bytes(std::string_view(static_cast<const char*>(host.data_ptr()),
                                          static_cast<size_t>(host.numel()) * host.element_size()),
                         h);
  }
  return h;
}

uint64_t check_replicas_identical(const optim::NamedParams& params, parallel::Communicator& comm) {
  const uint64_t mine = parameter_checksum(params);
  const auto options = torch::TensorOptions().dtype(torch::kInt64).device(comm.device());
  auto local = torch::full({1}, static_cast<int64_t>(mine), options);
  auto all = torch::zeros({comm.size()}, options);
  comm.all_gather(local, all);
  const auto host = all.cpu();
  const int64_t* v = host.data_ptr<int64_t>();
  std::string differing;
  for (int r = 1; r < comm.size(); ++r)
    if (v[r] != v[0]) differing += (differing.empty() ? "" : ", ") + std::to_string(r);
  if (!differing.empty())
    throw core::TrainingError("parameters differ between data-parallel ranks: rank(s) " + differing +
                                  " do not match rank 0",
                              "end of training",
                              "a non-deterministic collective or a rank that skipped an update; "
                              "report it with the run's logs/");
  return mine;
}

}  // namespace ankh::trainer
