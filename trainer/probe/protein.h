// One protein of a probe: its id and residues as upper-case letters, the form both BLAST (which
// reads FASTA) and the embedding (which maps letters to Ankh's vocabulary) start from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ankh::probe {

struct Protein {
  std::string id;        // the header's first word up to the first '|'
  std::string sequence;  // residue letters, upper case
};

// Ankh vocabulary ids of `sequence` (no </s>); letters outside the vocabulary become <unk>.
std::vector<uint8_t> residue_tokens(const std::string& sequence);
// The letters of vocabulary ids (as data::FastaReader yields them); anything but a residue as 'X'.
std::string residue_letters(const uint8_t* tokens, std::size_t length);

}  // namespace ankh::probe
