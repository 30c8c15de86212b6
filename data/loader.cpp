#include "data/loader.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/strings.h"
#include "data/collate.h"

namespace ankh::data {

void to_json(nlohmann::json& j, const LoaderState& s) {
  j = nlohmann::json{{"epoch", s.epoch}, {"next_sample", s.next_sample}, {"sequences", s.sequences}};
}

void from_json(const nlohmann::json& j, LoaderState& s) {
  try {
    // Integers only: get<int64_t>() of a float out of range (1e300) would be undefined behaviour.
    for (const char* key : {"epoch", "next_sample", "sequences"})
      if (j.contains(key) && !j.at(key).is_number_integer())
        throw core::InputError(std::string("malformed loader state: '") + key + "' is not an integer: " + j.at(key).dump(),
                               "", "expected {\"epoch\": N, \"next_sample\": N, \"sequences\": N}");
    s.epoch = j.at("epoch").get<int64_t>();
    s.next_sample = j.at("next_sample").get<int64_t>();
    s.sequences = j.contains("sequences") ? j.at("sequences").get<int64_t>() : 0;
  } catch (const nlohmann::json::exception& e) {
    throw core::InputError(std::string("malformed loader state: ") + e.what(), "",
                           "expected {\"epoch\": N, \"next_sample\": N, \"sequences\": N}");
  }
  if (s.epoch < 0 || s.next_sample < 0) throw core::InputError("malformed loader state: negative epoch or position");
}

void check_batch_geometry(int64_t global_batch, int64_t micro_batch, int64_t world_size, core::IssueList& issues,
                          const std::string& origin) {
  if (global_batch % (world_size * micro_batch) == 0) return;
  issues.add("train.global_batch", origin,
             std::to_string(global_batch) + " is not a multiple of " + std::to_string(world_size) +
                 " ranks x train.micro_batch " + std::to_string(micro_batch),
             "global_batch = ranks x micro_batch x accumulation steps: choose a multiple of " +
                 std::to_string(world_size * micro_batch) + ", or change the ranks or train.micro_batch");
}

namespace {

std::unique_ptr<const TaskMixture> checked_objective(const LoaderOptions& o) {
  core::IssueList issues;
  o.objective.validate(issues);
  validate_objective(o.objective, o.data, issues);
  if (o.global_batch < 1) issues.add("train.global_batch", "", "must be at least 1");
  if (o.micro_batch < 1) issues.add("train.micro_batch", "", "must be at least 1");
  if (o.world_size < 1 || o.rank < 0 || o.rank >= o.world_size)
    throw core::UsageError("rank " + std::to_string(o.rank) + " is not in [0, world size " +
                           std::to_string(o.world_size) + ")");
  if (issues.empty()) check_batch_geometry(o.global_batch, o.micro_batch, o.world_size, issues);
  issues.throw_if_any();
  return std::make_unique<TaskMixture>(o.objective);
}

OrderOptions order_options(const LoaderOptions& o) {
  OrderOptions order;
  order.seed = o.seed;
  order.global_batch = o.global_batch;
  // The order crops samples to max_length - 1 residues; a task token takes one more encoder token.
  order.max_length = max_residues(o.objective, o.data) + 1;
  order.bucket_window = o.data.bucket_window;
  return order;
}

std::shared_ptr<const Dataset> non_empty(std::shared_ptr<const Dataset> dataset, Split split) {
  if (dataset->size(split) == 0)
    throw core::InputError(std::string("the ") + name_of(split) + " split of the dataset is empty",
                           dataset->dir().string(),
                           split == Split::Valid ? "preprocess with a larger --valid-fraction (or set train.eval_every=0)"
                                                 : "preprocess more sequences");
  return dataset;
}

}  // namespace

StepBuilder::StepBuilder(std::shared_ptr<const Dataset> dataset, const LoaderOptions& options)
    : dataset_(non_empty(std::move(dataset), options.split)),
      options_(options),
      objective_(checked_objective(options)),
      order_(dataset_, options.split, order_options(options)) {}

int64_t StepBuilder::total_steps() const {
  if (options_.split == Split::Train) return -1;
  const int64_t all = order_.steps_per_epoch();
  return options_.max_steps > 0 ? std::min(all, options_.max_steps) : all;
}

LoaderState StepBuilder::at_global_step(int64_t global_step) const {
  const int64_t g = options_.global_batch;
  if (options_.split == Split::Valid) return {0, global_step * g, order_.sequences()};
  const int64_t s = steps_per_epoch();
  return {global_step / s, (global_step % s) * g, order_.sequences()};
}

LoaderState StepBuilder::after(const LoaderState& at) const {
  const int64_t g = options_.global_batch;
  const int64_t next = at.next_sample / g + 1;
  if (options_.split == Split::Train && next >= steps_per_epoch()) return {at.epoch + 1, 0, order_.sequences()};
  return {at.epoch, next * g, order_.sequences()};
}

LoaderState StepBuilder::restore(LoaderState saved) const {
  const int64_t n = order_.sequences();
  const int64_t g = options_.global_batch;
  if (options_.split == Split::Valid) return {0, 0, n};
  if (saved.sequences != 0 && saved.sequences != n)
    spdlog::warn("the loader state was saved for a training split of {} sequences, this dataset has {}: the sample "
                 "order differs from the saved run's",
                 core::format_count(saved.sequences), core::format_count(n));
  if (saved.next_sample % g != 0) {
    spdlog::warn("the saved loader position {} is not a multiple of the global batch {}: continuing from {}",
                 saved.next_sample, g, saved.next_sample / g * g);
    saved.next_sample = saved.next_sample / g * g;
  }
  if (saved.next_sample / g >= steps_per_epoch()) saved = {saved.epoch + 1, 0, n};
  saved.sequences = n;
  return saved;
}

PlannedStep StepBuilder::build(const LoaderState& at, bool with_batches) {
  const int64_t g = options_.global_batch;
  PlannedStep ps;
  ps.epoch = at.epoch;
  ps.step = at.next_sample / g;
  ps.global_step = options_.split == Split::Valid ? ps.step : at.epoch * steps_per_epoch() + ps.step;

  const std::vector<SampleRef>& global = order_.batch(at.epoch, ps.step);
  ps.global_size = static_cast<int64_t>(global.size());
  for (const SampleRef& s : global) ps.global_target_tokens += objective_->target_length(s.length, s.seed);

  // This rank's contiguous part (an equal share; for a short last Valid batch, as equal as can be).
  const int64_t w = options_.world_size, r = options_.rank;
  const int64_t lo = r * ps.global_size / w, hi = (r + 1) * ps.global_size / w;
  ps.samples.assign(global.begin() + lo, global.begin() + hi);
  ps.examples.resize(ps.samples.size());
  for (std::size_t i = 0; i < ps.samples.size(); ++i)
    objective_->apply(order_.residues(ps.samples[i]), ps.samples[i].seed, ps.examples[i]);
  if (!with_batches) return ps;

  const auto b = static_cast<std::size_t>(options_.micro_batch);
  const int64_t micro_count = static_cast<int64_t>((ps.samples.size() + b - 1) / b);
  for (int64_t m = 0; m < micro_count; ++m) {
    const std::size_t from = static_cast<std::size_t>(m) * b;
    const std::size_t count = std::min(b, ps.samples.size() - from);
    Batch batch = collate(ps.examples.data() + from, count);
    batch.global_target_tokens = ps.global_target_tokens;
    batch.step = ps.global_step;
    batch.micro_index = m;
    batch.micro_count = micro_count;
    for (std::size_t i = from; i < from + count; ++i) batch.global_positions.push_back(ps.global_step * g + ps.samples[i].position);
    ps.batches.push_back(std::move(batch));
  }
  return ps;
}

Loader::Loader(std::shared_ptr<const Dataset> dataset, LoaderOptions options, LoaderState start)
    : builder_(std::move(dataset), options), state_(builder_.restore(start)), depth_(std::max<int64_t>(1, options.data.prefetch)) {
  if (options.background) thread_ = std::thread([this, at = state_] { produce(at); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Loader::finished(const LoaderState& at) const {
  return builder_.total_steps() >= 0 && at.next_sample / builder_.options().global_batch >= builder_.total_steps();
}

void Loader::produce(LoaderState at) {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || static_cast<int64_t>(queue_.size()) < depth_; });
      if (stop_) return;
    }
    if (finished(at)) return;
    Item item;
    try {
      item.batches = builder_.build(at).batches;
      item.after = builder_.after(at);
    } catch (...) {
      item.error = std::current_exception();
    }
    const bool failed = static_cast<bool>(item.error);
    at = item.after;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(item));
    }
    changed_.notify_all();
    if (failed) return;
  }
}

std::vector<Batch> Loader::next_step() {
  if (finished(state_))
    throw core::Error("the validation loader has no more steps (" + std::to_string(builder_.total_steps()) + ")", "",
                      "create a new Loader for the next evaluation");
  if (!thread_.joinable()) {
    std::vector<Batch> batches = builder_.build(state_).batches;
    state_ = builder_.after(state_);
    return batches;
  }
  Item item;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return !queue_.empty(); });
    item = std::move(queue_.front());
    queue_.pop_front();
  }
  changed_.notify_all();
  if (item.error) std::rethrow_exception(item.error);
  state_ = item.after;
  return std::move(item.batches);
}

}  // namespace ankh::data
