#include "trainer/live_probes.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/files.h"
#include "core/timer.h"
#include "trainer/weights/embedder.h"

namespace ankh::trainer {

namespace fs = std::filesystem;

namespace {

metrics::ProbeRecord record_of(const nlohmann::json& results, const std::string& task, int64_t step, int64_t tokens) {
  metrics::ProbeRecord r;
  r.step = step;
  r.tokens = tokens;
  r.task = task;
  const auto m = probe::headline_metrics(results, "source");
  const auto get = [&](const char* key) { return m.count(key) ? m.at(key) : metrics::kNaN; };
  r.fmax = get("fmax");
  r.coverage = get("coverage");
  r.accuracy = get("accuracy");
  r.macro_f1 = get("macro_f1");
  return r;
}

}  // namespace

LiveProbes::LiveProbes(const RunConfig& config, int rank, parallel::Communicator& comm, const torch::Device& device)
    : dir_(fs::path(config.run.dir) / "probes"),
      every_(config.train.probe_every),
      rank_(rank),
      comm_(comm),
      device_(device) {
  for (const auto& file : config.train.probe_files()) {
    const probe::ProbeTask task = probe::load_probe_task(file);
    // Each rank reads on its own (they all embed a share); a BLAST database is exported into a
    // folder of the rank's own, removed once read.
    const fs::path work = dir_ / task.name / (".work-rank-" + std::to_string(rank));
    probes_.push_back(probe::prepare_probe(task, work));
    std::error_code ec;
    fs::remove_all(work, ec);
  }
}

bool LiveProbes::due(int64_t step, bool last) const {
  return !probes_.empty() && (last || (every_ > 0 && step % every_ == 0));
}

torch::Tensor LiveProbes::embed(model::T5Model& model, const probe::PreparedProbe& probe) const {
  const auto& split = probe.split();
  const auto lookup = static_cast<int64_t>(split.lookup.size()), total = lookup + static_cast<int64_t>(split.query.size());
  std::vector<int64_t> mine;
  std::vector<std::vector<uint8_t>> tokens;
  for (int64_t i = rank_; i < total; i += comm_.size()) {
    const auto& p = i < lookup ? split.lookup[i] : split.query[i - lookup];
    mine.push_back(i);
    tokens.push_back(probe::residue_tokens(p.sequence));
  }
  auto features = torch::zeros({total, model->config().d_model}, torch::kFloat32);
  if (!tokens.empty())
    weights::embed_sequences(model, tokens, weights::EmbedBatchOptions{},
                             [&](int64_t index, const torch::Tensor& mean, const torch::Tensor&) {
                               features[mine[index]].copy_(mean);
                             });
  auto shared = features.to(device_);  // every row is filled by exactly one rank: the sum gathers
  comm_.all_reduce(shared);
  return shared.cpu();
}

void LiveProbes::run(model::T5Model& model, int64_t step, int64_t tokens, metrics::MetricsLog& metrics) {
  model->eval();
  for (const auto& probe : probes_) {
    core::Stopwatch embed_watch;
    const torch::Tensor features = embed(model, *probe);
    const double embed_s = embed_watch.seconds();
    if (rank_ != 0) continue;
    const auto n = static_cast<int64_t>(probe->split().lookup.size());
    probe::ScoreOptions options;
    options.output = dir_ / probe->task().name / ("step-" + std::to_string(step));
    options.baselines = !baselines_done_;
    options.threads = torch::get_num_threads();
    fs::create_directories(options.output);
    const auto scores = probe->score(features.slice(0, 0, n), features.slice(0, n), options);
    core::write_file_atomic(options.output / "results.json", scores.results.dump(2) + "\n");
    auto record = record_of(scores.results, probe->task().name, step, tokens);
    record.embed_s = embed_s;
    record.fit_s = scores.fit_seconds;
    metrics.write(record);
    spdlog::info("probe {} at step {}: {}", probe->task().name, step, scores.results.dump());
  }
  baselines_done_ = true;
  model->train();
}

}  // namespace ankh::trainer
