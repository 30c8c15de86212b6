#include "checkpoints/hf_tokenizer.h"

#include <algorithm>
#include <set>

#include "core/error.h"

namespace ankh::checkpoints {

namespace {

bool is_special(const std::string& token) { return token.size() > 2 && token.front() == '<' && token.back() == '>'; }
bool is_sentinel(const std::string& token) { return token.rfind("<extra_id_", 0) == 0 && is_special(token); }
bool is_task_token(const TokenizerSpec& spec, const std::string& token) {
  return std::find(spec.task_tokens.begin(), spec.task_tokens.end(), token) != spec.task_tokens.end();
}
// Matched whole by the tokenizer (an added token with special: true).
bool matched_whole(const TokenizerSpec& spec, const std::string& token) { return is_special(token) || is_task_token(spec, token); }

// Special tokens other than pad/eos/unk (Ankh: the sentinels <extra_id_0> ... in id order of k,
// then the task tokens in id order).
std::vector<std::string> additional_specials(const TokenizerSpec& spec) {
  std::vector<std::string> out;
  for (const auto& t : spec.tokens)
    if (matched_whole(spec, t) && t != spec.pad && t != spec.eos && t != spec.unk) out.push_back(t);
  // <extra_id_0>, <extra_id_1>, ... as T5 lists them (their ids run backwards in Ankh's vocabulary);
  // the others keep their id order after them (a stable sort).
  std::stable_sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    if (!is_sentinel(a) || !is_sentinel(b)) return is_sentinel(a) > is_sentinel(b);
    return std::stoll(a.substr(10)) < std::stoll(b.substr(10));
  });
  return out;
}

}  // namespace

void validate(const TokenizerSpec& spec) {
  std::set<std::string> seen;
  for (std::size_t id = 0; id < spec.tokens.size(); ++id) {
    const std::string& t = spec.tokens[id];
    if (!seen.insert(t).second) throw core::CheckpointError("token '" + t + "' appears twice in the vocabulary", "tokenizer");
    if (!matched_whole(spec, t) && t.size() != 1)
      throw core::CheckpointError(
          "token '" + t + "' (id " + std::to_string(id) + ") is neither one character, <special> nor a task token", "tokenizer",
          "the exported tokenizer splits text into single characters; list multi-character task tokens in task_tokens");
    if (is_sentinel(t) && (t.size() < 12 || t.find_first_not_of("0123456789", 10) != t.size() - 1))
      throw core::CheckpointError("malformed sentinel token '" + t + "'", "tokenizer");
  }
  for (const auto& t : spec.task_tokens) {
    // One character would be matched whole before a residue of the same letter could be.
    if (t.size() < 2) throw core::CheckpointError("task token '" + t + "' has fewer than two characters", "tokenizer");
    if (!seen.count(t)) throw core::CheckpointError("task token '" + t + "' is not in the vocabulary", "tokenizer");
  }
  for (const std::string* special : {&spec.pad, &spec.eos, &spec.unk})
    if (!seen.count(*special)) throw core::CheckpointError("special token '" + *special + "' is not in the vocabulary", "tokenizer");
}

nlohmann::json tokenizer_json(const TokenizerSpec& spec) {
  validate(spec);
  nlohmann::json vocab = nlohmann::json::object();
  nlohmann::json added = nlohmann::json::array();
  for (std::size_t id = 0; id < spec.tokens.size(); ++id) {
    const std::string& t = spec.tokens[id];
    vocab[t] = id;
    // Added tokens are matched on the raw text before normalisation and splitting: "[S2S]" and
    // "<extra_id_0>" stay whole.
    if (matched_whole(spec, t))
      added.push_back({{"id", id}, {"content", t}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                       {"normalized", false}, {"special", true}});
  }
  const nlohmann::json eos_piece = {{"SpecialToken", {{"id", spec.eos}, {"type_id", 0}}}};
  auto sequence = [](const char* id) { return nlohmann::json{{"Sequence", {{"id", id}, {"type_id", 0}}}}; };
  const auto eos_id = static_cast<std::size_t>(std::find(spec.tokens.begin(), spec.tokens.end(), spec.eos) - spec.tokens.begin());
  // Lower-case residues read as upper case, as ankh's FASTA reader does (special tokens are
  // matched before normalisation, so <extra_id_0> is untouched).
  nlohmann::json upper = nlohmann::json::array();
  for (const auto& t : spec.tokens)
    if (t.size() == 1 && t[0] >= 'A' && t[0] <= 'Z')
      upper.push_back({{"type", "Replace"}, {"pattern", {{"String", std::string(1, static_cast<char>(t[0] - 'A' + 'a'))}}}, {"content", t}});
  return {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", upper.empty() ? nlohmann::json(nullptr) : nlohmann::json{{"type", "Sequence"}, {"normalizers", upper}}},
      // Whitespace separates nothing in a protein: drop it, then one token per character.
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "WhitespaceSplit"}},
          {{"type", "Split"}, {"pattern", {{"Regex", "."}}}, {"behavior", "Isolated"}, {"invert", false}}}}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", {sequence("A"), eos_piece}},
        {"pair", {sequence("A"), eos_piece, sequence("B"), eos_piece}},
        {"special_tokens", {{spec.eos, {{"id", spec.eos}, {"ids", {eos_id}}, {"tokens", {spec.eos}}}}}}}},
      {"decoder", {{"type", "Fuse"}}},  // decode() gives "MKV", not "M K V"
      {"model", {{"type", "WordLevel"}, {"vocab", vocab}, {"unk_token", spec.unk}}},
  };
}

nlohmann::json special_tokens_map_json(const TokenizerSpec& spec) {
  validate(spec);
  return {{"pad_token", spec.pad},
          {"eos_token", spec.eos},
          {"unk_token", spec.unk},
          {"additional_special_tokens", additional_specials(spec)}};
}

nlohmann::json tokenizer_config_json(const TokenizerSpec& spec) {
  nlohmann::json j = special_tokens_map_json(spec);
  j["tokenizer_class"] = "PreTrainedTokenizerFast";
  j["padding_side"] = "right";
  j["clean_up_tokenization_spaces"] = false;
  j["model_input_names"] = {"input_ids", "attention_mask"};
  return j;
}

}  // namespace ankh::checkpoints
