#include "trainer/checkpointing.h"

#include <csignal>
#include <chrono>
#include <limits>

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/strings.h"
#include "trainer/weights/model_io.h"

namespace ankh::trainer {

namespace fs = std::filesystem;

namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

nlohmann::json to_json(const TrainProgress& p, const RunConfig& config) {
  nlohmann::json loader;
  data::to_json(loader, p.loader);
  return {
      {"format_version", kStateFormatVersion},
      {"step", p.step},
      {"tokens_seen", p.tokens_seen},
      {"skipped_steps", p.skipped_steps},
      {"consecutive_skipped", p.consecutive_skipped},
      {"train_seconds", p.train_seconds},
      {"loader", loader},
      {"best_valid_loss", p.best_valid_loss},
      {"world_size", p.world_size},
      {"global_batch", config.train.global_batch},
      // Randomness is a pure function of the seed: sample order, crops and masks of
      // (seed, epoch, sample), dropout masks of (seed, step, global sample position). So the
      // seed is the whole RNG state, and it carries over to any number of ranks.
      {"rng", {{"scheme", "counter-based: (seed, step, global sample position)"}, {"seed", config.run.seed}}},
      {"scheduler", {{"name", config.optim.schedule}, {"step", p.step}}},
  };
}

namespace {
// A count of state.json: a JSON integer, not negative, that fits T. (get<int64_t>() would convert a
// float too, and converting one out of range, 1e300 say, is undefined behaviour.)
template <class T>
T count_field(const nlohmann::json& s, const char* key, const std::string& where) {
  const nlohmann::json& v = s.at(key);
  const bool fits = v.is_number_unsigned() ? v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max())
                                           : v.is_number_integer() && v.get<int64_t>() >= 0 &&
                                                 v.get<int64_t>() <= static_cast<int64_t>(std::numeric_limits<T>::max());
  if (!fits)
    throw core::CheckpointError(std::string("malformed state.json: '") + key + "' is not a count (an integer from 0 to " +
                                    std::to_string(std::numeric_limits<T>::max()) + "): " + v.dump(),
                                where, "the checkpoint is damaged or was not written by ankh: resume from another one");
  return static_cast<T>(v.get<int64_t>());
}
}  // namespace

TrainProgress progress_from_json(const nlohmann::json& s, const std::string& where) {
  try {
    const int version = count_field<int>(s, "format_version", where);
    if (version > kStateFormatVersion)
      throw core::CheckpointError("state.json format version " + std::to_string(version) + " is newer than this ankh's " +
                                      std::to_string(kStateFormatVersion),
                                  where, "resume with the ankh release that wrote it");
    TrainProgress p;
    p.step = count_field<int64_t>(s, "step", where);
    p.tokens_seen = count_field<int64_t>(s, "tokens_seen", where);
    p.skipped_steps = count_field<int64_t>(s, "skipped_steps", where);
    p.consecutive_skipped = count_field<int64_t>(s, "consecutive_skipped", where);
    p.train_seconds = s.at("train_seconds").get<double>();
    data::from_json(s.at("loader"), p.loader);
    p.best_valid_loss = s.at("best_valid_loss").get<double>();
    p.world_size = count_field<int>(s, "world_size", where);
    return p;
  } catch (const nlohmann::json::exception& e) {
    throw core::CheckpointError(std::string("malformed state.json: ") + e.what(), where);
  }
}

Checkpointer::Checkpointer(const RunConfig& config, int rank, parallel::Communicator& comm, const FaultInjection& faults)
    : config_(config), rank_(rank), comm_(comm), faults_(faults), run_dir_(config.run.dir), last_save_time_(now_seconds()) {}

Checkpointer::~Checkpointer() = default;  // an uncommitted writer removes its .tmp directory

namespace {

// A checkpoint's contents, read and checksummed, not yet applied to anything.
struct LoadedCheckpoint {
  std::string where;
  nlohmann::json state;
  checkpoints::NamedTensors model, optimizer;
};

LoadedCheckpoint read_checkpoint(const checkpoints::CheckpointReader& reader) {
  return {reader.dir().string(), reader.read_json("state.json"), reader.load_tensors("model.safetensors"),
          reader.load_tensors("optimizer.safetensors")};
}

}  // namespace

std::optional<TrainProgress> Checkpointer::restore(model::T5Model& model, optim::Optimizer& optimizer) const {
  std::optional<LoadedCheckpoint> loaded;
  const auto read = [&](const checkpoints::CheckpointReader& reader) { loaded = read_checkpoint(reader); };
  if (config_.checkpoint.resume.mode == checkpoints::ResumeFrom::Mode::Auto) {
    // A checkpoint whose files fail their checksums while being read is passed over.
    checkpoints::find_latest_committed(run_dir_, checkpoints::Verify::kSizes, read);
  } else if (auto reader = checkpoints::resolve_resume(run_dir_, config_.checkpoint.resume)) {
    read(*reader);  // a path named explicitly: its damage is an error
  }
  // Every rank reads the files itself; they must have picked the same step (-1: none).
  const auto step_tensor = [&](parallel::ReduceOp op) {
    auto t = torch::full({1}, loaded ? static_cast<double>(loaded->state.value("step", int64_t{0})) : -1.0,
                         torch::TensorOptions().dtype(torch::kFloat64).device(comm_.device()));
    comm_.all_reduce(t, op);
    return t.item<double>();
  };
  const double lowest = step_tensor(parallel::ReduceOp::Min), highest = step_tensor(parallel::ReduceOp::Max);
  if (lowest != highest)
    throw core::CheckpointError("ranks found different checkpoints to resume from (steps " + core::format_double(lowest) +
                                    " to " + core::format_double(highest) + ")",
                                run_dir_.string(), "every rank must see the same run directory (a shared file system)");
  if (!loaded) return std::nullopt;

  const std::string& where = loaded->where;
  TrainProgress progress = progress_from_json(loaded->state, where + "/state.json");
  const int64_t saved_batch = loaded->state.value("global_batch", config_.train.global_batch);
  if (saved_batch != config_.train.global_batch)
    throw core::CheckpointError("saved with train.global_batch=" + std::to_string(saved_batch) + ", configured " +
                                    std::to_string(config_.train.global_batch),
                                where, "resume with the same global batch (any number of ranks works)");
  weights::load_parameters(model, loaded->model, where + "/model.safetensors");
  optimizer.load_state_tensors(loaded->optimizer);
  if (progress.world_size != comm_.size())
    spdlog::info("resuming a {}-rank checkpoint on {} ranks (same global batch: same data order)", progress.world_size,
                 comm_.size());
  spdlog::info("resumed from {} (step {}, {} tokens seen)", where, progress.step, core::format_count(progress.tokens_seen));
  return progress;
}

bool Checkpointer::due_by_steps(int64_t step) const {
  return config_.checkpoint.every_steps > 0 && step % config_.checkpoint.every_steps == 0;
}

bool Checkpointer::time_due() const {
  return config_.checkpoint.every_minutes > 0 && now_seconds() - last_save_time_ >= 60.0 * config_.checkpoint.every_minutes;
}

void Checkpointer::start_save(model::T5Model& model, const optim::Optimizer& optimizer, const TrainProgress& progress) {
  if (pending()) commit(/*wait=*/true);
  pending_step_ = progress.step;
  last_save_time_ = now_seconds();
  if (rank_ != 0) return;
  writer_ = std::make_unique<checkpoints::CheckpointWriter>(checkpoints::CheckpointWriter::begin(run_dir_, progress.step));
  writer_->write_tensors("model.safetensors", weights::parameters_of(model));
  writer_->write_tensors("optimizer.safetensors", optimizer.state_tensors());
  writer_->write_json("state.json", to_json(progress, config_));
  writer_->write_text("config.yaml", to_yaml(config_));
}

bool Checkpointer::writer_finished() const {
  return writer_ && writer_->finished();
}

void Checkpointer::commit(bool wait) {
  if (!pending()) return;
  const int64_t step = pending_step_;
  pending_step_ = -1;
  if (wait) comm_.barrier();  // every rank is done with the checkpoint's step
  if (rank_ != 0) return;
  writer_->wait();
  if (faults_.at(FaultKind::CrashBeforeCommit, step, rank_)) {
    spdlog::warn("injected crash after writing checkpoint {} and before committing it", step);
    spdlog::default_logger()->flush();
    std::raise(SIGKILL);
  }
  const fs::path dir = writer_->commit();
  const auto& s = writer_->stats();
  if (metrics_)
    metrics_->write(metrics::CheckpointRecord{step, dir.string(), static_cast<int64_t>(s.bytes), s.snapshot_s, s.write_s,
                                              s.commit_s});
  writer_.reset();
  checkpoints::apply_retention(run_dir_, config_.checkpoint.keep_last, config_.checkpoint.keep_every);
  spdlog::info("checkpoint {} committed ({}, training stalled {:.3f} s)", dir.string(),
               core::format_bytes(static_cast<double>(s.bytes)), s.snapshot_s);
}

}  // namespace ankh::trainer
