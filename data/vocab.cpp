#include "data/vocab.h"

namespace ankh::data {

const std::array<int8_t, 256>& residue_table() {
  static const std::array<int8_t, 256> table = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (std::size_t i = 0; i < kResidues.size(); ++i) {
      const auto id = static_cast<int8_t>(kFirstResidue + static_cast<int64_t>(i));
      const char upper = kResidues[i];
      t[static_cast<unsigned char>(upper)] = id;
      t[static_cast<unsigned char>(upper - 'A' + 'a')] = id;
    }
    return t;
  }();
  return table;
}

std::string token_name(int64_t id) {
  if (id == kPad) return "<pad>";
  if (id == kEos) return "</s>";
  if (id == kUnk) return "<unk>";
  if (is_residue(id)) return std::string(1, kResidues[static_cast<std::size_t>(id - kFirstResidue)]);
  if (is_sentinel(id)) return "<extra_id_" + std::to_string(sentinel_index(id)) + ">";
  return "<bad:" + std::to_string(id) + ">";
}

std::string decode(const std::vector<int64_t>& ids) {
  std::string out;
  for (int64_t id : ids) out += token_name(id);
  return out;
}

std::vector<std::string> vocabulary() {
  std::vector<std::string> v;
  v.reserve(kVocabSize);
  for (int64_t id = 0; id < kVocabSize; ++id) v.push_back(token_name(id));
  return v;
}

}  // namespace ankh::data
