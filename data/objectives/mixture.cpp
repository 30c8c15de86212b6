#include "data/objectives/mixture.h"

#include <algorithm>
#include <cmath>

#include "core/hash.h"
#include "data/vocab.h"

namespace ankh::data {

namespace {
constexpr uint64_t kTaskStream = 0x7461736B6D697821ULL;  // "taskmix!": the task draw's own stream
}  // namespace

TaskMixture::TaskMixture(const ObjectiveConfig& config) {
  const auto tasks = config.tasks();
  const auto tokens = config.task_tokens();
  double total = 0;
  for (const auto& t : tasks) total += t.weight;
  // Thresholds on the 64-bit draw: task i owns [threshold[i-1], threshold[i]), a share of 2^64
  // equal to its weight's share up to rounding (2^-53). The last one owns the rest.
  double cumulative = 0;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    cumulative += tasks[i].weight;
    Task task;
    task.objective = make_task_objective(tasks[i]);
    task.kind = tasks[i].kind;
    const double scaled = std::ldexp(cumulative / total, 64);  // 2^64 itself does not fit a uint64_t
    task.threshold = i + 1 == tasks.size() || scaled >= 0x1p64 ? UINT64_MAX : static_cast<uint64_t>(scaled);
    task.token = -1;
    if (!tasks[i].prefix_token.empty())
      task.token = static_cast<int>(kVocabSize + (std::find(tokens.begin(), tokens.end(), tasks[i].prefix_token) - tokens.begin()));
    tasks_.push_back(std::move(task));
  }
}

const char* TaskMixture::name() const { return tasks_.size() == 1 ? tasks_[0].objective->name() : "mixture"; }

std::size_t TaskMixture::task_of(uint64_t sample_seed) const {
  if (tasks_.size() == 1) return 0;
  const uint64_t draw = core::hash_words(sample_seed, kTaskStream);
  for (std::size_t i = 0; i < tasks_.size(); ++i)
    if (draw < tasks_[i].threshold) return i;
  return tasks_.size() - 1;
}

int64_t TaskMixture::target_length(int64_t residues, uint64_t sample_seed) const {
  return tasks_[task_of(sample_seed)].objective->target_length(residues, sample_seed);
}

int64_t TaskMixture::input_length(int64_t residues, uint64_t sample_seed) const {
  const Task& t = tasks_[task_of(sample_seed)];
  return t.objective->input_length(residues, sample_seed) + (t.token >= 0 ? 1 : 0);
}

int64_t TaskMixture::max_sentinels(int64_t residues) const {
  int64_t most = 0;
  for (const auto& t : tasks_) most = std::max(most, t.objective->max_sentinels(residues));
  return most;
}

void TaskMixture::apply(TokenView residues, uint64_t sample_seed, Example& out) const {
  const std::size_t i = task_of(sample_seed);
  const Task& t = tasks_[i];
  t.objective->apply(residues, sample_seed, out);
  if (t.token >= 0) out.input.insert(out.input.begin(), static_cast<uint8_t>(t.token));
  out.task = static_cast<int32_t>(i);
}

}  // namespace ankh::data
