#include "trainer/generation/infill.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/strings.h"
#include "data/objectives/objective.h"
#include "data/objectives/sampling.h"
#include "data/vocab.h"

namespace ankh::generation {

namespace {

int64_t parse_position(const std::string& item, const std::string& text) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(item, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != item.size() || item.find_first_not_of("0123456789") != std::string::npos)
    throw core::UsageError("'" + item + "' in '" + text + "' is not a position", "--positions",
                           "1-based positions and ranges separated by commas, e.g. 12,40-45");
  if (v < 1) throw core::UsageError("positions count from 1: '" + item + "' in '" + text + "'", "--positions");
  return static_cast<int64_t>(v);
}

}  // namespace

std::vector<int64_t> parse_positions(const std::string& text) {
  std::vector<int64_t> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string item = core::trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (item.empty())
      throw core::UsageError("empty item in '" + text + "'", "--positions",
                             "1-based positions and ranges separated by commas, e.g. 12,40-45");
    const std::size_t dash = item.find('-');
    if (dash == std::string::npos) {
      out.push_back(parse_position(item, text));
    } else {
      const int64_t a = parse_position(core::trim(item.substr(0, dash)), text);
      const int64_t b = parse_position(core::trim(item.substr(dash + 1)), text);
      if (b < a) throw core::UsageError("range '" + item + "' ends before it starts", "--positions");
      for (int64_t p = a; p <= b; ++p) out.push_back(p);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::sort(out.begin(), out.end());
  const auto twice = std::adjacent_find(out.begin(), out.end());
  if (twice != out.end()) throw core::UsageError("position " + std::to_string(*twice) + " is given twice in '" + text + "'", "--positions");
  return out;
}

int64_t random_position_count(int64_t residues, double mask_prob, bool* capped) {
  const int64_t m = data::masked_count(residues, mask_prob);
  if (capped) *capped = m > data::kNumSentinels;
  return std::min<int64_t>(m, data::kNumSentinels);
}

std::vector<int64_t> draw_positions(core::SplitMix64& rng, int64_t residues, int64_t count) {
  std::vector<int64_t> out;
  data::sampling::select(rng, residues, count, [&](int64_t i, bool take) {
    if (take) out.push_back(i);
  });
  return out;
}

std::vector<int64_t> infill_input(const std::vector<uint8_t>& residues, const std::vector<int64_t>& positions,
                                  int64_t task_token) {
  std::vector<int64_t> in;
  in.reserve(residues.size() + 2);
  if (task_token >= 0) in.push_back(task_token);
  std::size_t k = 0;
  for (std::size_t i = 0; i < residues.size(); ++i) {
    if (k < positions.size() && positions[k] == static_cast<int64_t>(i)) {
      in.push_back(data::sentinel(static_cast<int64_t>(k++)));
    } else {
      in.push_back(residues[i]);
    }
  }
  in.push_back(data::kEos);
  return in;
}

std::vector<uint8_t> apply_infill(const std::vector<uint8_t>& residues, const std::vector<int64_t>& positions,
                                  const std::vector<int64_t>& filled) {
  std::vector<uint8_t> v(residues);
  for (std::size_t i = 0; i < positions.size() && i < filled.size(); ++i)
    v[static_cast<std::size_t>(positions[i])] = static_cast<uint8_t>(filled[i]);
  return v;
}

std::string mutation_list(const std::vector<uint8_t>& seed, const std::vector<uint8_t>& variant) {
  std::string out;
  const std::size_t n = std::min(seed.size(), variant.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (seed[i] == variant[i]) continue;
    if (!out.empty()) out += ',';
    out += data::token_name(seed[i]) + std::to_string(i + 1) + data::token_name(variant[i]);
  }
  return out;
}

double identity(const std::vector<uint8_t>& seed, const std::vector<uint8_t>& variant) {
  const std::size_t longer = std::max(seed.size(), variant.size());
  if (longer == 0) return 1.0;
  std::size_t same = 0;
  for (std::size_t i = 0; i < std::min(seed.size(), variant.size()); ++i) same += seed[i] == variant[i];
  return static_cast<double>(same) / static_cast<double>(longer);
}

int64_t prefix_residues(int64_t residues, double prefix_fraction, int64_t prefix_length) {
  if (residues <= 1) return residues;
  const int64_t k =
      prefix_length > 0 ? prefix_length : static_cast<int64_t>(std::llround(prefix_fraction * static_cast<double>(residues)));
  return std::clamp<int64_t>(k, 1, residues - 1);
}

std::vector<int64_t> completion_input(const std::vector<uint8_t>& residues, int64_t prefix, int64_t task_token) {
  std::vector<int64_t> in;
  if (task_token >= 0) in.push_back(task_token);
  in.insert(in.end(), residues.begin(), residues.begin() + prefix);
  in.push_back(data::kEos);
  return in;
}

int64_t default_max_new(int64_t residues, int64_t prefix) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(1.5 * static_cast<double>(residues - prefix))));
}

}  // namespace ankh::generation
