// Exact random subsets and compositions for the objectives, from a counter-based generator.
#pragma once

#include <cstdint>
#include <vector>

#include "core/hash.h"

namespace ankh::data::sampling {

// Calls visit(i, selected) for i = 0..n-1, where exactly k of the n indices are selected, every
// k-subset equally likely (Knuth's selection sampling: one draw per index, in order).
template <class Visit>
inline void select(core::SplitMix64& rng, int64_t n, int64_t k, Visit&& visit) {
  int64_t need = k;
  for (int64_t i = 0; i < n; ++i) {
    const bool take = need > 0 && static_cast<int64_t>(rng.below(static_cast<uint64_t>(n - i))) < need;
    need -= take;
    visit(i, take);
  }
}

// A uniformly random composition of `total` into `parts` positive parts (every one of the
// C(total-1, parts-1) compositions equally likely), written to `out`.
inline void composition(core::SplitMix64& rng, int64_t total, int64_t parts, std::vector<int32_t>& out) {
  out.clear();
  int32_t run = 1;
  // Cut after position i (i = 0..total-2) for the `parts - 1` selected cut points.
  select(rng, total - 1, parts - 1, [&](int64_t, bool cut) {
    if (cut) {
      out.push_back(run);
      run = 1;
    } else {
      ++run;
    }
  });
  out.push_back(run);
}

}  // namespace ankh::data::sampling
