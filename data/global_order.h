// The global sample order (docs/architecture.md), identical on every rank:
//   1. per epoch, a seeded Feistel permutation of the split's sequences (feistel.h);
//   2. each sample cropped to data.max_length - 1 residues at an offset drawn from
//      (seed, epoch, sequence index);
//   3. length bucketing: the samples of a window of data.bucket_window global batches are sorted
//      by cropped length and cut into global batches again, whose order within the window is
//      shuffled from (seed, epoch, window). A global batch thus holds samples of similar length
//      (little padding) while the order of batches stays random.
// Global step s of an epoch consumes positions [s·G, (s+1)·G) of the permuted order (before the
// window re-cut), so the loader state is just (epoch, next sample). Nothing depends on the rank
// count: ranks only choose their contiguous part of each global batch.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "data/dataset.h"
#include "data/objectives/objective.h"

namespace ankh::data {

// One sample of a global batch.
struct SampleRef {
  int64_t position = 0;    // place in its global batch (sorted by length)
  int64_t index = 0;       // sequence index in the split
  int64_t crop_start = 0;  // first residue kept
  int64_t length = 0;      // residues after cropping (no </s>)
  uint64_t seed = 0;       // the objective's per-sample seed
};

struct OrderOptions {
  uint64_t seed = 0;
  int64_t global_batch = 1;
  int64_t max_length = 512;   // encoder tokens counting </s>: samples keep at most max_length - 1 residues
  int64_t bucket_window = 1;  // global batches per bucketing window
};

class GlobalOrder {
 public:
  // Train: every epoch a new permutation, floor(n / G) full global batches (the remainder of an
  // epoch is left out; it is a different remainder every epoch). Valid: one fixed order (epoch
  // 0), ceil(n / G) global batches, the last one possibly smaller, so every sequence counts.
  GlobalOrder(std::shared_ptr<const Dataset> dataset, Split split, OrderOptions options);

  Split split() const { return split_; }
  int64_t sequences() const { return n_; }
  int64_t global_batch() const { return options_.global_batch; }
  int64_t steps_per_epoch() const { return steps_; }

  // The samples of global batch `step` (< steps_per_epoch()) of `epoch`, sorted by length.
  // Valid ignores `epoch`. The reference stays valid until the next call.
  const std::vector<SampleRef>& batch(int64_t epoch, int64_t step);

  // The permuted order itself (before bucketing): sequence index at `position` of `epoch`.
  int64_t sequence_at(int64_t epoch, int64_t position) const;
  // The crop of sequence `index` in `epoch` (a pure function of seed, epoch, index).
  void crop(int64_t epoch, int64_t index, int64_t& start, int64_t& length) const;

  // Residues of a sample after cropping, zero-copy.
  TokenView residues(const SampleRef& s) const {
    return dataset_->tokens(split_, s.index).subview(s.crop_start, s.length);
  }
  const Dataset& dataset() const { return *dataset_; }

 private:
  int64_t order_epoch(int64_t epoch) const { return split_ == Split::Valid ? 0 : epoch; }
  void build_window(int64_t epoch, int64_t window);

  std::shared_ptr<const Dataset> dataset_;
  Split split_;
  OrderOptions options_;
  int64_t n_ = 0, steps_ = 0;

  // The window last built: its global batches and their shuffled order.
  int64_t cached_epoch_ = -1, cached_window_ = -1;
  std::vector<std::vector<SampleRef>> window_batches_;
  std::vector<int64_t> window_order_;
};

}  // namespace ankh::data
