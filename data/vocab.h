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

// "<pad>", "</s>", "<unk>", "A", ..., "<extra_id_0>".
std::string token_name(int64_t id);
// Token names concatenated; residues as letters, special tokens in angle brackets.
std::string decode(const std::vector<int64_t>& ids);
// The Hugging Face / SentencePiece-style list of all 144 token strings, in id order.
std::vector<std::string> vocabulary();

}  // namespace ankh::data
