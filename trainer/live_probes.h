// Downstream probes of the model being trained (train.probes, train.probe_every; docs/probes.md):
// every probe_every steps and after the last one, each task's proteins are embedded by the live
// model, shared out over the ranks (protein i on rank i mod N, gathered with one all-reduce), and
// rank 0 scores them, writes RUN/probes/<task>/step-N/results.json and a `probe` record. The
// tasks' files are read once, when training starts; the task's own baselines (naive, BLAST;
// majority) are scored at the first probe only, since they do not depend on the model.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "trainer/metrics/metrics_log.h"
#include "trainer/model/model.h"
#include "trainer/parallel/communicator.h"
#include "trainer/probe/prepared_probe.h"
#include "trainer/run_config.h"

namespace ankh::trainer {

class LiveProbes {
 public:
  // Reads every task of config.train.probes (each rank: they all embed). No tasks: nothing to do.
  LiveProbes(const RunConfig& config, int rank, parallel::Communicator& comm, const torch::Device& device);

  bool due(int64_t step, bool last) const;
  // Collective. Leaves the model in training mode.
  void run(model::T5Model& model, int64_t step, int64_t tokens, metrics::MetricsLog& metrics);

 private:
  torch::Tensor embed(model::T5Model& model, const probe::PreparedProbe& probe) const;

  std::filesystem::path dir_;  // RUN/probes
  int64_t every_ = 0;
  int rank_;
  parallel::Communicator& comm_;
  torch::Device device_;
  std::vector<std::unique_ptr<probe::PreparedProbe>> probes_;
  bool baselines_done_ = false;
};

}  // namespace ankh::trainer
