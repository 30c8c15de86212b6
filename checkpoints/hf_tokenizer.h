// Tokenizer files for a Hugging Face export, for a character-level vocabulary such as Ankh's
// (the checkpoints library does not depend on data/: the caller passes data::vocabulary()).
//
// `tokenizer.json` is a `tokenizers` WordLevel model over the tokens, so that
// `transformers.AutoTokenizer` loads it as a PreTrainedTokenizerFast without sentencepiece:
// whitespace is dropped, every other character is one token ("MKV", "M K V" and "mkv" all give
// M K V), tokens spelled <...> are special (matched whole: "<extra_id_0>"), unknown characters
// become <unk>, a post-processor appends </s> like Ankh's tokenizer, and decode() joins the
// tokens without spaces. Checked with transformers 5.17 / tokenizers 0.23 (needs >= 0.13).
//
// Task tokens (an objective's prefix_token, e.g. "[S2S]") are multi-character tokens that are not
// spelled <...>: listed in `task_tokens`, they are special added tokens too, so the tokenizer
// matches them whole before splitting the rest into characters ("[S2S]MKV" -> [S2S] M K V </s>),
// and they follow the sentinels in additional_special_tokens.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ankh::checkpoints {

struct TokenizerSpec {
  std::vector<std::string> tokens;  // by id
  std::string pad = "<pad>";
  std::string eos = "</s>";
  std::string unk = "<unk>";
  // Tokens of `tokens` that are special although not spelled <...> (task tokens, in id order).
  // Empty: the files are exactly those of a plain character vocabulary.
  std::vector<std::string> task_tokens = {};
};

// CheckpointError when the tokens repeat, a token is neither one character, <...> nor a task
// token, a task token is not in the vocabulary or shorter than two characters, or pad/eos/unk
// are not among them.
void validate(const TokenizerSpec& spec);

nlohmann::json tokenizer_json(const TokenizerSpec& spec);
nlohmann::json tokenizer_config_json(const TokenizerSpec& spec);
nlohmann::json special_tokens_map_json(const TokenizerSpec& spec);

}  // namespace ankh::checkpoints
