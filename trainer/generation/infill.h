// Inputs of `ankh generate`: the positions an infill redesigns (given with --positions or drawn
// at random as the `ankh` objective counts them), the encoder input with each chosen position
// replaced by its sentinel exactly as the `ankh` objective builds it, the variant a decoded
// infill makes, its mutations; and the prefix input of --mode complete.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/hash.h"

namespace ankh::generation {

// "12,40-45" -> {12, 40, 41, 42, 43, 44, 45}: 1-based, ascending. UsageError naming --positions
// for anything else: empty items, non-numbers, 0, a reversed range, a position given twice.
std::vector<int64_t> parse_positions(const std::string& text);

// How many positions a random infill of `residues` residues redesigns: data::masked_count
// (round(p·L) clamped to [1, L-1]), at most the 116 sentinels (`capped` set when that cut it).
int64_t random_position_count(int64_t residues, double mask_prob, bool* capped = nullptr);

// `count` distinct positions of [0, residues), 0-based ascending, every subset equally likely
// (data::sampling::select, one draw per position from `rng`).
std::vector<int64_t> draw_positions(core::SplitMix64& rng, int64_t residues, int64_t count);

// The encoder input: [task token,] the residues with the k-th chosen position (0-based, ascending)
// replaced by <extra_id_k>, </s>. task_token < 0: none.
std::vector<int64_t> infill_input(const std::vector<uint8_t>& residues, const std::vector<int64_t>& positions,
                                  int64_t task_token);

// The seed with position positions[i] set to filled[i].
std::vector<uint8_t> apply_infill(const std::vector<uint8_t>& residues, const std::vector<int64_t>& positions,
                                  const std::vector<int64_t>& filled);

// "A23G,K40R": the positions (1-based) where `variant` differs from `seed` (same length), "" if none.
std::string mutation_list(const std::vector<uint8_t>& seed, const std::vector<uint8_t>& variant);

// Matching positions / the longer length (1 for two empty sequences).
double identity(const std::vector<uint8_t>& seed, const std::vector<uint8_t>& variant);

// --mode complete: the residues kept as the prefix of a seed of `residues` residues:
// prefix_length when > 0, else round(prefix_fraction·L); clamped to [1, L-1] (a 1-residue seed: 1).
int64_t prefix_residues(int64_t residues, double prefix_fraction, int64_t prefix_length);
// [task token,] the first `prefix` residues, </s>.
std::vector<int64_t> completion_input(const std::vector<uint8_t>& residues, int64_t prefix, int64_t task_token);
// The default --max-new: ceil(1.5 x the residues after the prefix), at least 1.
int64_t default_max_new(int64_t residues, int64_t prefix);

}  // namespace ankh::generation
