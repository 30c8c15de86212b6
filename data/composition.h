// The residue composition of a dataset: how many times each stored token (the 25 residue letters
// and <unk>) occurs. `ankh preprocess` counts it per shard into the manifest, so that `ankh train`
// gets the amino-acid unigram entropy without reading a token, and `ankh verify` recounts it.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace ankh::data {

// counts[0] is <unk>, counts[1 + r] residue r (token id kFirstResidue + r): every id a shard may
// store, in vocabulary order.
struct Composition {
  static constexpr int kSize = 26;
  std::array<int64_t, kSize> counts{};

  int64_t total() const;
  Composition& operator+=(const Composition& other);
  bool operator==(const Composition& other) const { return counts == other.counts; }
  bool operator!=(const Composition& other) const { return !(*this == other); }
  // Entropy of the residue frequencies (<unk> left out), in nats: the residue loss of a model
  // that knows nothing but the frequencies. NaN when there are no residues.
  double unigram_entropy() const;
};

// Whether a stored token is one a shard may hold (a residue or <unk>).
inline bool is_stored_token(uint8_t t) { return static_cast<uint8_t>(t - 2) < Composition::kSize; }

// What count_tokens saw besides the stored tokens.
struct TokenCount {
  int64_t invalid = 0;         // bytes that are not a stored token
  int64_t first_invalid = -1;  // the index of the first of them
};

// Adds the stored tokens among `size` bytes to `into`, and counts the others.
TokenCount count_tokens(const uint8_t* tokens, int64_t size, Composition& into);

// The token name of entry k ("<unk>", "A", "L", …): the manifest's keys.
std::string composition_key(int k);
// k for a manifest key, or -1.
int composition_index(const std::string& key);

}  // namespace ankh::data
