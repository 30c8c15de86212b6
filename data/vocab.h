// Ankh's vocabulary, exactly (144 ids): 0 <pad>, 1 </s>, 2 <unk>, 3..27 the residue letters
// "ALGVSREDTIPKFQNYMHWCXBOUZ", and sentinels 28..143 = <extra_id_115> ... <extra_id_0>,
// i.e. <extra_id_k> = 143 - k. Encoder inputs end with </s>; the decoder starts with <pad>.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ankh::data {

inline constexpr int64_t kVocabSize = 144;
inline constexpr int64_t kPad = 0;
inline constexpr int64_t kEos = 1;
inline constexpr int64_t kUnk = 2;
inline constexpr int64_t kFirstResidue = 3;
inline constexpr std::string_view kResidues = "ALGVSREDTIPKFQNYMHWCXBOUZ";
inline constexpr int64_t kNumResidues = 25;
inline constexpr int64_t kNumSentinels = 116;
inline constexpr int64_t kDecoderStart = kPad;
// Label value ignored by the loss (padding), as in PyTorch and Hugging Face.
inline constexpr int64_t kIgnoreLabel = -100;
inline constexpr const char* kVocabularyName = "ankh-144";

// <extra_id_k>, k in [0, 116).
constexpr int64_t sentinel(int64_t k) { return kVocabSize - 1 - k; }
constexpr bool is_sentinel(int64_t id) { return id >= kVocabSize - kNumSentinels && id < kVocabSize; }
constexpr int64_t sentinel_index(int64_t id) { return kVocabSize - 1 - id; }
constexpr bool is_residue(int64_t id) { return id >= kFirstResidue && id < kFirstResidue + kNumResidues; }

// Residue letter -> id (upper or lower case); -1 for anything else. A 256-entry table, so the
// FASTA hot loop is one lookup per byte.
const std::array<int8_t, 256>& residue_table();
inline int residue_id(unsigned char c) { return residue_table()[c]; }

// Task tokens (objective prefix_token, e.g. "[S2S]") extend the vocabulary after Ankh's 144 ids:
// the k-th distinct one is id 144 + k. Ids stay below 256 (a byte per token in the loader).
inline constexpr int64_t kMaxTaskTokens = 32;
// model.vocab_size is rounded up to a multiple of this when task tokens make it grow (144 is
// 9 x 16): embedding and output matrices with a multiple of 16 rows keep tensor-core tiles full.
inline constexpr int64_t kVocabMultiple = 16;
// The embedding rows a model needs for `task_tokens` extra tokens: 144 when there are none,
// else 144 + their count rounded up to kVocabMultiple.
int64_t vocab_size_for(std::size_t task_tokens);

// "<pad>", "</s>", "<unk>", "A", ..., "<extra_id_0>", then the task tokens (ids 144, ...);
// "<id_N>" for an id past them.
std::string token_name(int64_t id, const std::vector<std::string>& task_tokens = {});
// Token names concatenated; residues as letters, special tokens in angle brackets.
std::string decode(const std::vector<int64_t>& ids, const std::vector<std::string>& task_tokens = {});
// The Hugging Face / SentencePiece-style list of token strings in id order: Ankh's 144, then
// the task tokens.
std::vector<std::string> vocabulary(const std::vector<std::string>& task_tokens = {});
// Why `token` cannot be a task token ("" when it can): empty, whitespace, one character, longer
// than 32 bytes, or a token Ankh's vocabulary already has.
std::string task_token_problem(const std::string& token);

}  // namespace ankh::data
