// `ankh generate`: variants of seed proteins from an encoder-decoder (docs/generation.md,
// "Generating proteins"). Every (seed protein, attempt) has its own random stream, seeded by
// hash_words(seed, protein index, attempt), from which its positions (random infill) and then its
// sampled tokens are drawn; a seed's variants are the first `num` distinct outputs in attempt
// order that differ from the seed. So the output depends on --seed and not on --batch-size, the
// thread count or the chunking of the FASTA (up to float rounding of the logits).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trainer/generation/generation_options.h"
#include "trainer/model/model.h"

namespace ankh::generation {

struct Seed {
  std::string id;
  std::vector<uint8_t> residues;
};

struct GeneratedVariant {
  std::vector<uint8_t> residues;
  std::vector<int64_t> positions;  // infill: the redesigned positions, 0-based ascending
  int64_t prefix = 0;              // complete: the residues kept from the seed
  double sum_logp = 0;             // of the generated residues, log-softmax over the full vocabulary
  double mean_logp = 0;            // sum_logp / generated residues
  int64_t attempt = 0;
};

// Exactly options.num variants per seed, in the seeds' order. `task_token`: the id prepended to
// every encoder input (-1: none). Errors: UsageError for bad options (naming them, e.g. a
// --positions entry past a seed's end, naming the seed); InputError naming the seed when its
// attempts (max_attempts_per_variant x num) run out before num distinct variants.
std::vector<std::vector<GeneratedVariant>> generate_variants(model::T5Model& model, const std::vector<Seed>& seeds,
                                                    const GenerateOptions& options, int64_t task_token);

// ">ID_varK seed=ID mutations=A23G,K40R sum_logp=-3.2100 mean_logp=-1.6050 identity=0.9930"
// (complete: "prefix=P generated=G" instead of mutations). Without the '>' and newline.
std::string variant_header(const Seed& seed, int64_t number, const GeneratedVariant& variant, GenerateMode mode);

struct GenerateResult {
  int64_t seeds = 0, variants = 0, attempts = 0;
  std::string source;
  int64_t task_token = -1;
  double seconds = 0;
};

// Checks the options and the output (refused when it exists, without overwrite), reads the FASTA
// (errors name file:line; no sequences is an InputError), loads the model (an encoder-only export
// is refused), generates, and writes OUT.fasta atomically (nothing under its name on failure).
GenerateResult generate_fasta(const GenerateOptions& options);

}  // namespace ankh::generation
