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

int64_t vocab_size_for(std::size_t task_tokens) {
  if (task_tokens == 0) return kVocabSize;
  const int64_t needed = kVocabSize + static_cast<int64_t>(task_tokens);
  return (needed + kVocabMultiple - 1) / kVocabMultiple * kVocabMultiple;
}

std::string token_name(int64_t id, const std::vector<std::string>& task_tokens) {
  if (id == kPad) return "<pad>";
  if (id == kEos) return "</s>";
  if (id == kUnk) return "<unk>";
  if (is_residue(id)) return std::string(1, kResidues[static_cast<std::size_t>(id - kFirstResidue)]);
  if (is_sentinel(id)) return "<extra_id_" + std::to_string(sentinel_index(id)) + ">";
  if (id >= kVocabSize && id - kVocabSize < static_cast<int64_t>(task_tokens.size()))
    return task_tokens[static_cast<std::size_t>(id - kVocabSize)];
  if (id >= kVocabSize) return "<id_" + std::to_string(id) + ">";
  return "<bad:" + std::to_string(id) + ">";
}

std::string decode(const std::vector<int64_t>& ids, const std::vector<std::string>& task_tokens) {
  std::string out;
  for (int64_t id : ids) out += token_name(id, task_tokens);
  return out;
}

std::vector<std::string> vocabulary(const std::vector<std::string>& task_tokens) {
  std::vector<std::string> v;
  v.reserve(static_cast<std::size_t>(kVocabSize) + task_tokens.size());
  for (int64_t id = 0; id < kVocabSize; ++id) v.push_back(token_name(id));
  v.insert(v.end(), task_tokens.begin(), task_tokens.end());
  return v;
}

std::string task_token_problem(const std::string& token) {
  if (token.size() < 2) return "a task token has at least two characters (one character would read as a residue)";
  if (token.size() > 32) return "a task token has at most 32 characters";
  for (unsigned char c : token)
    if (c <= ' ' || c == 0x7f) return "a task token has no whitespace or control characters";
  for (int64_t id = 0; id < kVocabSize; ++id)
    if (token_name(id) == token) return "'" + token + "' is already token " + std::to_string(id) + " of Ankh's vocabulary";
  return "";
}

}  // namespace ankh::data
