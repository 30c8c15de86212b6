#include "trainer/generation/beam_search.h"

#include <algorithm>

namespace ankh::generation {

std::vector<Expansion> best_expansions(std::vector<Expansion> c, int64_t width) {
  const auto better = [](const Expansion& a, const Expansion& b) {
    if (a.rank != b.rank) return a.rank > b.rank;
    if (a.row != b.row) return a.row < b.row;
    return a.token < b.token;
  };
  const auto keep = std::min<std::size_t>(c.size(), static_cast<std::size_t>(std::max<int64_t>(width, 1)));
  std::partial_sort(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(keep), c.end(), better);
  c.resize(keep);
  // Back in row order: the hypotheses of the next step stay grouped as their parents were.
  std::stable_sort(c.begin(), c.end(), [](const Expansion& a, const Expansion& b) { return a.row < b.row; });
  return c;
}

void sort_finished(std::vector<Hypothesis>& f, int64_t width) {
  std::stable_sort(f.begin(), f.end(), [](const Hypothesis& a, const Hypothesis& b) {
    if (a.rank != b.rank) return a.rank > b.rank;
    return a.tokens < b.tokens;
  });
  if (static_cast<int64_t>(f.size()) > width) f.resize(static_cast<std::size_t>(width));
}

bool beam_settled(const std::vector<Hypothesis>& finished, double best_live_rank, int64_t width) {
  return static_cast<int64_t>(finished.size()) >= width && best_live_rank <= finished.back().rank;
}

}  // namespace ankh::generation
