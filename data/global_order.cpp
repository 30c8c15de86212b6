#include "data/global_order.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/hash.h"
#include "core/strings.h"
#include "data/feistel.h"

namespace ankh::data {

namespace {
// Separate random streams, so that changing one use never shifts another.
constexpr uint64_t kPermutationStream = 0x7065726D75746521ULL;
constexpr uint64_t kCropStream = 0x63726F7070696E67ULL;
constexpr uint64_t kBatchOrderStream = 0x6261746368657321ULL;
constexpr uint64_t kValidStream = 0x76616C6964617465ULL;
}  // namespace

GlobalOrder::GlobalOrder(std::shared_ptr<const Dataset> dataset, Split split, OrderOptions options)
    : dataset_(std::move(dataset)), split_(split), options_(options) {
  if (options_.global_batch < 1) throw core::UsageError("global batch must be at least 1");
  if (options_.max_length < 2) throw core::UsageError("max_length must be at least 2 (one residue and </s>)");
  options_.bucket_window = std::max<int64_t>(1, options_.bucket_window);
  n_ = dataset_->size(split_);
  const int64_t g = options_.global_batch;
  steps_ = split_ == Split::Train ? n_ / g : (n_ + g - 1) / g;
  if (split_ == Split::Train && steps_ == 0)
    throw core::InputError("the training split has " + core::format_count(n_) +
                               " sequences, fewer than one global batch (" + core::format_count(g) + ")",
                           dataset_->dir().string(), "lower train.global_batch or preprocess more sequences");
}

int64_t GlobalOrder::sequence_at(int64_t epoch, int64_t position) const {
  const uint64_t stream = split_ == Split::Valid ? kValidStream : kPermutationStream;
  // One permutation object per call is cheap (6 hashes) and keeps this method stateless.
  const FeistelPermutation perm(static_cast<uint64_t>(n_),
                                core::hash_words(options_.seed, static_cast<uint64_t>(order_epoch(epoch)), stream));
  return static_cast<int64_t>(perm(static_cast<uint64_t>(position)));
}

void GlobalOrder::crop(int64_t epoch, int64_t index, int64_t& start, int64_t& length) const {
  const int64_t raw = dataset_->length(split_, index);
  const int64_t keep = options_.max_length - 1;
  if (raw <= keep) {
    start = 0;
    length = raw;
    return;
  }
  core::SplitMix64 rng(core::hash_words(options_.seed, static_cast<uint64_t>(order_epoch(epoch)),
                                        static_cast<uint64_t>(index), kCropStream));
  start = static_cast<int64_t>(rng.below(static_cast<uint64_t>(raw - keep + 1)));
  length = keep;
}

void GlobalOrder::build_window(int64_t epoch, int64_t window) {
  const int64_t g = options_.global_batch;
  const int64_t e = order_epoch(epoch);
  const int64_t first_step = window * options_.bucket_window;
  const int64_t steps = std::min(options_.bucket_window, steps_ - first_step);
  const int64_t begin = first_step * g;
  const int64_t end = std::min(n_, (first_step + steps) * g);

  const FeistelPermutation perm(static_cast<uint64_t>(n_),
                                core::hash_words(options_.seed, static_cast<uint64_t>(e),
                                                 split_ == Split::Valid ? kValidStream : kPermutationStream));
  std::vector<SampleRef> samples(static_cast<std::size_t>(end - begin));
  for (int64_t p = begin; p < end; ++p) {
    SampleRef& s = samples[static_cast<std::size_t>(p - begin)];
    s.position = p;  // the permuted position: the tie-break of the sort below
    s.index = static_cast<int64_t>(perm(static_cast<uint64_t>(p)));
    crop(e, s.index, s.crop_start, s.length);
    s.seed = objective_seed(options_.seed, e, s.index);
  }
  std::sort(samples.begin(), samples.end(), [](const SampleRef& a, const SampleRef& b) {
    return a.length != b.length ? a.length < b.length : a.position < b.position;
  });

  window_batches_.assign(static_cast<std::size_t>(steps), {});
  for (int64_t b = 0; b < steps; ++b) {
    auto from = samples.begin() + std::min<int64_t>(b * g, static_cast<int64_t>(samples.size()));
    auto to = samples.begin() + std::min<int64_t>((b + 1) * g, static_cast<int64_t>(samples.size()));
    auto& batch = window_batches_[static_cast<std::size_t>(b)];
    batch.assign(from, to);
    for (std::size_t j = 0; j < batch.size(); ++j) batch[j].position = static_cast<int64_t>(j);
  }
  // Shuffle the batch order of the window (Fisher-Yates), so that lengths do not trend within it.
  window_order_.resize(static_cast<std::size_t>(steps));
  std::iota(window_order_.begin(), window_order_.end(), 0);
  core::SplitMix64 rng(core::hash_words(options_.seed, static_cast<uint64_t>(e), static_cast<uint64_t>(window),
                                        kBatchOrderStream));
  for (int64_t i = steps - 1; i > 0; --i)
    std::swap(window_order_[static_cast<std::size_t>(i)],
              window_order_[static_cast<std::size_t>(rng.below(static_cast<uint64_t>(i + 1)))]);
  cached_epoch_ = e;
  cached_window_ = window;
}

const std::vector<SampleRef>& GlobalOrder::batch(int64_t epoch, int64_t step) {
  if (step < 0 || step >= steps_)
    throw core::UsageError("step " + std::to_string(step) + " is outside the epoch (" + std::to_string(steps_) +
                           " global batches)");
  const int64_t window = step / options_.bucket_window;
  if (cached_epoch_ != order_epoch(epoch) || cached_window_ != window) build_window(epoch, window);
  return window_batches_[static_cast<std::size_t>(
      window_order_[static_cast<std::size_t>(step - window * options_.bucket_window)])];
}

}  // namespace ankh::data
