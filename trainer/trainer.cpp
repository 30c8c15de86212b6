#include "trainer/trainer.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/strings.h"
#include "core/timer.h"
#include "data/loader.h"
#include "trainer/batch_transfer.h"
#include "trainer/checkpointing.h"
#include "trainer/parallel/device.h"
#include "trainer/parallel/grad_sync.h"
#include "trainer/parallel/make_communicator.h"
#include "trainer/dataset_check.h"
#include "trainer/evaluator.h"
#include "trainer/fault_injection.h"
#include "trainer/live_probes.h"
#include "trainer/metrics/metrics_log.h"
#include "trainer/weights/model_io.h"
#include "trainer/optim/clip.h"
#include "trainer/optim/schedule.h"
#include "trainer/peak_flops.h"
#include "trainer/replica_check.h"
#include "trainer/step_stats.h"
#include "trainer/model/throughput.h"

namespace ankh::trainer {


struct Trainer::State {
  RunConfig config;
  const parallel::MpiSession& mpi;
  int rank;
  torch::Device device{torch::kCPU};
  FaultInjection faults;
  std::unique_ptr<parallel::Communicator> comm;
  std::shared_ptr<const data::Dataset> dataset;
  model::T5Model model{nullptr};
  optim::NamedParams named_params;
  std::unique_ptr<parallel::GradSync> grad_sync;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<optim::LrSchedule> schedule;
  std::unique_ptr<Checkpointer> checkpointer;
  std::unique_ptr<data::Loader> loader;
  std::unique_ptr<metrics::MetricsLog> metrics;
  std::unique_ptr<LiveProbes> probes;
  TrainProgress progress;
  model::AutocastState autocast;
  PeakFlops peak;
  double unigram_entropy = std::nan("");
  std::vector<std::string> task_kinds;  // an objective mixture's tasks (per-task metrics); empty otherwise

  State(RunConfig c, const parallel::MpiSession& m) : config(std::move(c)), mpi(m), rank(m.rank()) {}

  void setup();
  void init_model();
  void log_start() const;
  torch::Tensor train_step(const std::vector<data::Batch>& micro_batches, Window& window);
  void log_window(Window& window, double lr, double grad_norm);
  void validate();
  double update(int64_t step, double lr);
  StepStats reduce_stats(torch::Tensor stats, bool signal_seen);
  void account(int64_t step, const StepStats& v, double seconds, Window& w);
  void save_if_due(int64_t step, const StepStats& v, bool last);
  TrainResult finish(metrics::EndReason reason, double seconds);
};

Trainer::Trainer(RunConfig config, const parallel::MpiSession& mpi) : s_(std::make_unique<State>(std::move(config), mpi)) {
  s_->setup();
}

Trainer::~Trainer() = default;

void Trainer::State::setup() {
  {  // before anything costly: the global batch must split over these ranks
    core::IssueList issues;
    data::check_batch_geometry(config.train.global_batch, config.train.micro_batch, mpi.world_size(), issues);
    issues.throw_if_any();
  }
  faults = FaultInjection::from_environment();
  device = parallel::choose_device(mpi);
  comm = parallel::make_communicator(config.dist, mpi, device);
  if (rank == 0 && config.data.verify == data::Verify::Full) verify_dataset_whole(config.data.dataset);
  dataset = data::Dataset::open(config.data.dataset);
  autocast = model::autocast_for(config.model, device);
  task_kinds = mixture_task_kinds(config.objective);

  init_model();
  for (const auto& item : model->named_parameters()) named_params.emplace_back(item.key(), item.value());
  grad_sync = std::make_unique<parallel::GradSync>(named_params, *comm, config.dist);
  optimizer = optim::make_optimizer(config.optim, named_params);
  schedule = std::make_unique<optim::LrSchedule>(config.optim, config.train.max_steps);
  checkpointer = std::make_unique<Checkpointer>(config, rank, *comm, faults);

  const auto resumed = checkpointer->restore(model, *optimizer);
  if (resumed) progress = *resumed;
  else grad_sync->broadcast_parameters(0);  // identical start on every rank, whatever happened
  progress.world_size = comm->size();

  loader = std::make_unique<data::Loader>(dataset, loader_options(config, data::Split::Train, rank, comm->size()),
                                          progress.loader);

  metrics = std::make_unique<metrics::MetricsLog>(std::filesystem::path(config.run.dir) / "metrics.jsonl", rank == 0,
                                         resumed ? progress.step : -1);
  checkpointer->attach_metrics(metrics.get());
  probes = std::make_unique<LiveProbes>(config, rank, *comm, device);
  peak = resolve_peak_flops(config.train.peak_flops, autocast.enabled ? autocast.dtype : torch::kFloat32, device, mpi);
  if (rank == 0) unigram_entropy = trainer::unigram_entropy(*dataset);
  log_start();
}

void Trainer::State::init_model() {
  // Random init, or model.init_from (names, shapes, architecture and vocabulary with the task tokens checked).
  model = weights::initialise_model(config.model, static_cast<uint64_t>(config.run.seed), config.objective.task_tokens());
  model->set_dropout_seed(static_cast<uint64_t>(config.run.seed));
  model->to(device);
  model->train();
}

void Trainer::State::log_start() const {
  if (rank != 0) return;
  const auto counts = model::count_parameters(config.model);
  const int64_t accumulation = config.train.global_batch / (comm->size() * config.train.micro_batch);
  spdlog::info("training {} parameters on {} rank(s) ({}, {} backend), global batch {} = {} x {} x {} accumulation",
               core::format_count(counts.total), comm->size(), device.str(), comm->name(), config.train.global_batch,
               comm->size(), config.train.micro_batch, accumulation);
  spdlog::info("dataset {}: {} train / {} valid sequences; amino-acid unigram entropy {:.4f} nats",
               config.data.dataset, core::format_count(dataset->size(data::Split::Train)),
               core::format_count(dataset->size(data::Split::Valid)), unigram_entropy);
  spdlog::info("model FLOP utilisation is against {}FLOP/s per device: {}; measured matmul ceiling {}",
               core::format_si(peak.per_device), peak.source,
               peak.matmul_ceiling > 0 ? core::format_si(peak.matmul_ceiling) + "FLOP/s" : std::string("not measured"));
  metrics::StartRecord start;
  start.step = progress.step;
  start.world_size = comm->size();
  start.device = device.str();
  start.parameters = counts.total;
  start.peak_flops = peak.per_device;
  start.peak_source = peak.source;
  if (peak.matmul_ceiling > 0) start.matmul_flops = peak.matmul_ceiling;
  start.unigram_entropy = unigram_entropy;
  metrics->write(start);
}

// Forward and backward of this rank's micro-batches; returns the step's statistics (device
// tensor, float64, laid out as StepStats) before the all-reduce.
torch::Tensor Trainer::State::train_step(const std::vector<data::Batch>& micro_batches, Window& window) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  const auto num_tasks = static_cast<int64_t>(task_kinds.size());  // 0: a single objective
  torch::Tensor loss_sum = torch::zeros({}, f64), residue_loss_sum = torch::zeros({}, f64);
  torch::Tensor residue_count = torch::zeros({}, f64), residue_correct = torch::zeros({}, f64);
  torch::Tensor task_sums;  // a mixture's per-task sums; nothing for a single objective
  if (num_tasks > 0) task_sums = torch::zeros({num_tasks, model::kNumTaskSums}, f64);
  double flops = 0, encoder_tokens = 0, target_tokens = 0;
  grad_sync->zero_grad();
  for (const auto& batch : micro_batches) {
    // Model FLOPs count real tokens only (padding is wasted work, not useful work).
    const auto enc_len = batch.attention_mask.sum(1), dec_len = batch.decoder_attention_mask.sum(1);
    const auto le = enc_len.accessor<int64_t, 1>(), ld = dec_len.accessor<int64_t, 1>();
    for (int64_t i = 0; i < batch.size(); ++i) {
      flops += model::train_flops_per_token(config.model, le[i], ld[i]) * static_cast<double>(le[i]);
      encoder_tokens += static_cast<double>(le[i]);
    }
    target_tokens += static_cast<double>(batch.target_tokens);

    grad_sync->begin_micro_batch(batch.last_micro());
    const data::Batch b = to_device(batch, device);
    torch::Tensor logits;
    {
      model::AutocastGuard guard(autocast);
      logits = model->forward(b);
    }
    const auto terms =
        num_tasks > 0 ? model::loss_terms(logits, b.labels, b.tasks, num_tasks) : model::loss_terms(logits, b.labels);
    // Divided by the whole global batch's target tokens: N ranks x b sequences give the same
    // gradient as 1 rank x N*b, once GradSync has summed over ranks.
    (terms.loss_sum / static_cast<double>(batch.global_target_tokens)).backward();
    loss_sum += terms.loss_sum.detach();
    residue_loss_sum += terms.residue_loss_sum;
    residue_count += terms.residue_count;
    residue_correct += terms.residue_correct;
    if (num_tasks > 0) task_sums += terms.task_sums;
  }
  core::Stopwatch comm_watch;
  grad_sync->finish();
  window.comm_wait += comm_watch.seconds();

  auto stats = torch::zeros({kNumStats + num_tasks * model::kNumTaskSums}, f64);
  stats.slice(0, kLossSum, kLossSum + 1).copy_(loss_sum.reshape({1}));
  stats.slice(0, kResidueLossSum, kResidueLossSum + 1).copy_(residue_loss_sum.reshape({1}));
  stats.slice(0, kResidueCount, kResidueCount + 1).copy_(residue_count.reshape({1}));
  stats.slice(0, kResidueCorrect, kResidueCorrect + 1).copy_(residue_correct.reshape({1}));
  stats[kTargetTokens].fill_(target_tokens);
  stats[kEncoderTokens].fill_(encoder_tokens);
  stats[kModelFlops].fill_(flops);
  if (num_tasks > 0) stats.slice(0, kNumStats).copy_(task_sums.reshape({-1}));
  return stats;
}

void Trainer::State::log_window(Window& w, double lr, double grad_norm) {
  if (w.steps == 0) return;
  metrics::TrainRecord r = w.record(peak.per_device * comm->size(), task_kinds);
  r.step = progress.step;
  r.epoch = progress.loader.epoch;
  r.tokens = progress.tokens_seen;
  r.lr = lr;
  r.grad_norm = grad_norm;
  r.skipped_steps = progress.skipped_steps;
  r.memory_bytes = parallel::memory_in_use(device);
  metrics->write(r);
  if (rank == 0)
    spdlog::info("step {}/{} | loss {:.4f} | residue {:.4f} | acc {:.3f} | lr {:.2e} | gnorm {:.3f} | {}tok/s | "
                 "{:.3f} s/step | mfu {:.1f}% | {}{}",
                 progress.step, config.train.max_steps, r.loss, r.residue_loss, r.accuracy, lr, grad_norm,
                 core::format_si(r.tokens_per_s, 1), r.step_time_s, 100 * r.mfu, core::format_bytes(r.memory_bytes),
                 task_summary(r.tasks));
  w = Window{};
}

void Trainer::State::validate() {
  const EvalResult r = evaluate(model, dataset, config, *comm, device);
  if (progress.best_valid_loss < 0 || r.loss < progress.best_valid_loss) progress.best_valid_loss = r.loss;
  metrics->write(r.record(progress.step, progress.tokens_seen, unigram_entropy));
  if (rank == 0)
    spdlog::info("valid at step {}: loss {:.4f} | residue loss {:.4f} (amino-acid unigram entropy {:.4f}) | acc {:.3f} | ppl {:.2f}{}",
                 progress.step, r.loss, r.residue_loss, unigram_entropy, r.accuracy, r.perplexity, task_summary(r.tasks));
}

// Clips the summed gradients and takes the optimizer step, or skips it when their norm is not
// finite (too many skips in a row end the run). Returns the norm before clipping.
double Trainer::State::update(int64_t step, double lr) {
  std::vector<torch::Tensor> grads;
  grads.reserve(named_params.size());
  for (const auto& [name, p] : named_params)
    if (p.grad().defined()) grads.push_back(p.grad());
  const double grad_norm = optim::clip_grad_norm(grads, config.optim.clip_norm);
  // Gradients are identical on every rank after the all-reduce, so every rank takes the same
  // decision here without talking.
  if (std::isfinite(grad_norm)) {
    optimizer->step(lr);
    progress.consecutive_skipped = 0;
    return grad_norm;
  }
  ++progress.skipped_steps;
  ++progress.consecutive_skipped;
  if (rank == 0) spdlog::warn("step {}: non-finite gradient norm ({}), update skipped", step, grad_norm);
  if (progress.consecutive_skipped >= config.train.max_skipped_steps)
    throw core::TrainingError(std::to_string(progress.consecutive_skipped) +
                                  " consecutive steps with a non-finite loss or gradient norm",
                              "step " + std::to_string(step),
                              "lower optim.lr, raise optim.warmup_steps, or check the data; the last good "
                              "checkpoint is in " + config.run.dir + "/checkpoints");
  return grad_norm;
}

// The one small all-reduce per step: statistics and flags (stop signal, checkpoint timing), so
// every rank takes the same decisions. Returns the summed values on the host.
StepStats Trainer::State::reduce_stats(torch::Tensor stats, bool signal_seen) {
  stats[kStopFlag].fill_(signal_seen ? 1.0 : 0.0);
  if (rank == 0) {
    stats[kTimeDue].fill_(checkpointer->time_due() ? 1.0 : 0.0);
    stats[kWriterDone].fill_(checkpointer->writer_finished() ? 1.0 : 0.0);
  }
  comm->all_reduce(stats);
  const auto host = stats.cpu();
  const double* sums = host.data_ptr<double>();
  return StepStats(sums, sums + host.numel());
}

// Records step `step` as done in the progress and the metrics window.
void Trainer::State::account(int64_t step, const StepStats& v, double seconds, Window& w) {
  progress.step = step;
  progress.loader = loader->state();
  progress.tokens_seen += static_cast<int64_t>(v[kEncoderTokens]);
  progress.train_seconds += seconds;
  w.add(v, seconds);
}

// Commits a finished background save; starts a save when one is due or the run ends here.
void Trainer::State::save_if_due(int64_t step, const StepStats& v, bool last) {
  if (checkpointer->pending() && v[kWriterDone] > 0) checkpointer->commit(/*wait=*/false);
  if (checkpointer->due_by_steps(step) || v[kTimeDue] > 0 || last) {
    checkpointer->start_save(model, *optimizer, progress);
    if (last) checkpointer->commit(/*wait=*/true);
  }
}

// After the last step: waits for the checkpoint, checks the replicas and writes the end record
// (the last line of metrics.jsonl says how the run ended; `ankh status` and the sweep read it).
TrainResult Trainer::State::finish(metrics::EndReason reason, double seconds) {
  checkpointer->commit(/*wait=*/true);
  const uint64_t checksum = check_replicas_identical(named_params, *comm);
  if (rank == 0) spdlog::info("parameters identical on all {} rank(s) (checksum {:016x})", comm->size(), checksum);
  metrics::EndRecord end;
  end.step = progress.step;
  end.tokens = progress.tokens_seen;
  end.reason = reason;
  end.best_valid_loss = progress.best_valid_loss >= 0 ? progress.best_valid_loss : metrics::kNaN;
  end.train_seconds = progress.train_seconds;
  metrics->write(end);
  TrainResult result;
  result.steps = progress.step;
  result.tokens_seen = progress.tokens_seen;
  result.end = reason;
  if (rank == 0)
    spdlog::info("done: {} steps, {} tokens in {}", result.steps, core::format_count(result.tokens_seen),
                 core::format_duration(seconds));
  return result;
}

TrainResult Trainer::run(const StopSignal& stop_signal) {
  State& s = *s_;
  const auto& cfg = s.config;
  Window window;
  bool signal_seen = false;
  auto reason = metrics::EndReason::MaxSteps;
  core::Stopwatch total;

  while (s.progress.step < cfg.train.max_steps) {
    const int64_t step = s.progress.step + 1;  // the optimizer step being taken (1-based)
    s.faults.maybe_throw_or_hang(step, s.rank);
    core::Stopwatch step_watch;

    core::Stopwatch data_watch;
    const auto micro_batches = s.loader->next_step();
    window.data_wait += data_watch.seconds();

    auto stats = s.train_step(micro_batches, window);
    const double lr = s.schedule->lr(step);
    const double grad_norm = s.update(step, lr);

    if (stop_signal.requested() && !signal_seen) {
      signal_seen = true;  // in this rank's own log: which rank heard what, and when
      spdlog::warn("received {}: finishing step {}, then saving a checkpoint and stopping", stop_signal.name(), step);
    }
    const auto v = s.reduce_stats(std::move(stats), signal_seen);
    s.account(step, v, step_watch.seconds(), window);

    const bool signalled = v[kStopFlag] > 0;
    const bool stop = signalled || step == cfg.train.exit_at_step;
    const bool last = step == cfg.train.max_steps || stop;
    if (step % cfg.train.log_every == 0 || last) s.log_window(window, lr, grad_norm);
    if (cfg.train.eval_every > 0 && (step % cfg.train.eval_every == 0 || last)) s.validate();
    // Not on a stop signal: the allocation's grace time is for the checkpoint.
    if (s.probes->due(step, step == cfg.train.max_steps))
      s.probes->run(s.model, step, s.progress.tokens_seen, *s.metrics);
    s.save_if_due(step, v, last);

    if (stop && step < cfg.train.max_steps) {
      if (s.rank == 0) {
        if (signalled)
          spdlog::warn("stopping after step {} on {} (received by {} of {} rank(s)): checkpoint saved", step,
                       signal_seen ? stop_signal.name() : "a stop signal", static_cast<int>(v[kStopFlag]),
                       s.comm->size());
        else spdlog::info("stopping after step {} (train.exit_at_step): checkpoint saved", step);
      }
      reason = signalled ? metrics::EndReason::Signal : metrics::EndReason::ExitAtStep;
      break;
    }
  }
  return s.finish(reason, total.seconds());
}

}  // namespace ankh::trainer
