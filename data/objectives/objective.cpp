#include "data/objectives/objective.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/hash.h"
#include "core/strings.h"
#include "data/objectives/completion.h"
#include "data/objectives/demasking.h"
#include "data/objectives/t5_span.h"
#include "data/vocab.h"

namespace ankh::data {

std::unique_ptr<const Objective> make_task_objective(const TaskConfig& c) {
  switch (c.kind) {
    case ObjectiveKind::Ankh: return std::make_unique<AnkhDemasking>(c.mask_prob);
    case ObjectiveKind::T5Span: return std::make_unique<T5SpanCorruption>(c.mask_prob.front(), c.mean_span_length);
    case ObjectiveKind::FullReconstruction: return std::make_unique<FullReconstruction>(c.mask_prob);
    case ObjectiveKind::Completion: return std::make_unique<SequenceCompletion>(c.prefix_fraction, c.prefix_length);
  }
  throw core::Error("unknown objective kind", "objective.kind");  // unreachable: the enum is closed
}

uint64_t objective_seed(uint64_t seed, int64_t epoch, int64_t sample) {
  constexpr uint64_t kObjectiveStream = 0x6F626A6563746976ULL;  // "objectiv"
  return core::hash_words(seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(sample), kObjectiveStream);
}

int64_t max_residues(const ObjectiveConfig& objective, const DataConfig& data) {
  return data.max_length - objective.reserved_input_tokens();
}

int64_t masked_count(int64_t residues, double mask_prob) {
  if (residues <= 1) return residues;
  const auto m = static_cast<int64_t>(std::llround(mask_prob * static_cast<double>(residues)));
  return std::clamp<int64_t>(m, 1, residues - 1);
}

void check_sentinels(const Objective& objective, int64_t residues, int64_t needed) {
  // validate_objective() rejects such configurations up front; this guards direct callers.
  if (needed > kNumSentinels)
    throw core::InputError(std::string("objective '") + objective.name() + "' needs " + std::to_string(needed) +
                               " sentinels for a sample of " + std::to_string(residues) + " residues; the vocabulary has " +
                               std::to_string(kNumSentinels),
                           "", "crop samples to fewer residues (data.max_length) or lower objective.mask_prob");
}

namespace {

// Whether `task` needs at most the 116 sentinels for every sample under data.max_length `max_length`.
bool fits(const TaskConfig& task, int64_t reserved, int64_t max_length) {
  return make_task_objective(task)->max_sentinels(max_length - reserved) <= kNumSentinels;
}

}  // namespace

void validate_objective(const ObjectiveConfig& objective, const DataConfig& data, core::IssueList& issues) {
  const int64_t reserved = objective.reserved_input_tokens();
  const int64_t residues = data.max_length - reserved;
  if (residues < 1) {
    issues.add("data.max_length", "",
               std::to_string(data.max_length) + " leaves no residue beside </s> and the task token",
               "raise data.max_length to at least " + std::to_string(reserved + 1));
    return;
  }
  const auto tasks = objective.tasks();
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const TaskConfig& task = tasks[i];
    const int64_t need = make_task_objective(task)->max_sentinels(residues);
    if (need <= kNumSentinels) continue;

    // The largest mask_prob (to 1/1000) and max_length that would fit, as the hint.
    TaskConfig lower = task;
    double lo = 0, hi = task.max_mask_prob();
    for (int k = 0; k < 40; ++k) {
      lower.mask_prob = {(lo + hi) / 2};
      (fits(lower, reserved, data.max_length) ? lo : hi) = lower.mask_prob[0];
    }
    const double best_prob = std::floor(lo * 1000) / 1000;
    int64_t a = reserved + 1, b = data.max_length;  // fits(a), !fits(b)
    while (b - a > 1) {
      const int64_t mid = a + (b - a) / 2;
      (fits(task, reserved, mid) ? a : b) = mid;
    }
    char hint[160];
    std::snprintf(hint, sizeof hint, "lower %s to %s or data.max_length to %lld", objective.key_of(i, "mask_prob").c_str(),
                  core::format_double(best_prob).c_str(), static_cast<long long>(a));
    issues.add(objective.key_of(i, "mask_prob"), "",
               std::string("objective '") + name_of(task.kind) + "' would need " + std::to_string(need) + " sentinels for a sample of " +
                   std::to_string(residues) + " residues (data.max_length " + std::to_string(data.max_length) +
                   "), but the vocabulary has " + std::to_string(kNumSentinels),
               hint);
  }
}

}  // namespace ankh::data
