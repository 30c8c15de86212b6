#include "trainer/generation/generate_fasta.h"

#include "trainer/generation/decoding_model.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/config.h"
#include "core/config_source.h"
#include "core/error.h"
#include "core/files.h"
#include "core/hash.h"
#include "core/strings.h"
#include "core/timer.h"
#include "data/data_config.h"
#include "data/fasta_reader.h"
#include "data/input_stream.h"
#include "data/vocab.h"
#include "trainer/generation/generator.h"
#include "trainer/generation/infill.h"
#include "trainer/weights/model_io.h"

namespace ankh::generation {

namespace fs = std::filesystem;

namespace {

std::string suggestion(const GenerateOptions& o) {
  if (o.mode == GenerateMode::kComplete) return "sample more freely (a higher --temperature), or ask for fewer --num";
  return o.positions.empty() ? "redesign more positions (a higher --mask-prob) or sample more freely (a higher --temperature)"
                             : "give more --positions or sample more freely (a higher --temperature)";
}

void check_options(const GenerateOptions& o, const std::vector<int64_t>& positions, const std::vector<Seed>& seeds) {
  if (o.num < 1) throw core::UsageError("must be at least 1", "--num");
  if (o.batch_size < 1) throw core::UsageError("must be at least 1", "--batch-size");
  o.decoding.validate();
  if (o.mode == GenerateMode::kInfill) {
    if (!(o.mask_prob > 0 && o.mask_prob <= 1)) throw core::UsageError("must be in (0, 1]", "--mask-prob");
    if (static_cast<int64_t>(positions.size()) > data::kNumSentinels)
      throw core::UsageError(std::to_string(positions.size()) + " positions, more than the " +
                                 std::to_string(data::kNumSentinels) + " sentinels of the vocabulary",
                             "--positions");
    for (const auto& s : seeds)
      if (!positions.empty() && positions.back() > static_cast<int64_t>(s.residues.size()))
        throw core::UsageError("position " + std::to_string(positions.back()) + " is past the end of seed '" + s.id + "' (" +
                                   std::to_string(s.residues.size()) + " residues)",
                               "--positions", "give positions within every seed, or one seed per run");
  } else {
    if (!(o.prefix_fraction > 0 && o.prefix_fraction < 1)) throw core::UsageError("must be in (0, 1)", "--prefix-fraction");
    if (o.prefix_length < 0) throw core::UsageError("must be 0 (use --prefix-fraction) or positive", "--prefix-length");
    if (o.max_new < 0) throw core::UsageError("must be 0 (default) or positive", "--max-new");
  }
  // A fixed input decoded without sampling gives the same outputs at every attempt.
  const bool fixed_input = o.mode == GenerateMode::kComplete || !positions.empty();
  if (fixed_input && !o.decoding.sampling()) {
    const std::string what = o.mode == GenerateMode::kComplete ? "a completion" : "fixed --positions";
    if (o.decoding.beam == 0 && o.num > 1)
      throw core::UsageError("greedy decoding of " + what + " gives one variant, " + std::to_string(o.num) + " were asked for",
                             "--num", "sample (--temperature 1) or use beam search with --beam " + std::to_string(o.num) + " or more");
    if (o.decoding.beam > 0 && o.decoding.beam < o.num)
      throw core::UsageError("beam search of " + what + " gives at most --beam " + std::to_string(o.decoding.beam) +
                                 " variants, " + std::to_string(o.num) + " were asked for",
                             "--beam", "use --beam " + std::to_string(o.num) + " or more, or sample (--temperature)");
  }
}

struct SeedState {
  std::vector<GeneratedVariant> accepted;
  std::set<std::vector<uint8_t>> seen;
  int64_t next_attempt = 0, max_attempts = 0;
  bool capped = false;
};

}  // namespace

std::vector<std::vector<GeneratedVariant>> generate_variants(model::T5Model& model, const std::vector<Seed>& seeds,
                                                    const GenerateOptions& o, int64_t task_token) {
  const std::vector<int64_t> given = o.positions.empty() ? std::vector<int64_t>{} : parse_positions(o.positions);
  check_options(o, given, seeds);
  std::vector<int64_t> fixed;  // 0-based
  for (const int64_t p : given) fixed.push_back(p - 1);
  const bool deterministic = !o.decoding.sampling() && (o.mode == GenerateMode::kComplete || !fixed.empty());
  // Beam search of a fixed input: the beam's outputs, best first, are the variants; otherwise the
  // best output of each attempt.
  const bool all_candidates = deterministic && o.decoding.beam > 0;

  std::vector<SeedState> state(seeds.size());
  std::vector<std::vector<GeneratedVariant>> out(seeds.size());
  int64_t capped = 0;
  for (std::size_t s = 0; s < seeds.size(); ++s) {
    state[s].max_attempts = deterministic ? 1 : std::max<int64_t>(1, o.max_attempts_per_variant) * o.num;
    state[s].seen.insert(seeds[s].residues);  // the seed itself is no variant
    if (o.mode == GenerateMode::kInfill && fixed.empty()) {
      random_position_count(static_cast<int64_t>(seeds[s].residues.size()), o.mask_prob, &state[s].capped);
      capped += state[s].capped;
    }
  }
  if (capped > 0)
    spdlog::warn("generate: {} seed(s) would redesign more than the {} sentinels at --mask-prob {}: capped at {} positions",
                 capped, data::kNumSentinels, o.mask_prob, data::kNumSentinels);

  // Seeds in chunks (memory), each chunk in rounds: every seed short of variants gets as many
  // new attempts as it lacks. Acceptance is in attempt order, so rounds and chunks change nothing.
  const auto chunk = static_cast<std::size_t>(std::max<int64_t>(1, 4 * o.batch_size / o.num));
  for (std::size_t first = 0; first < seeds.size(); first += chunk) {
    const std::size_t last = std::min(seeds.size(), first + chunk);
    for (;;) {
      struct Pending {
        std::size_t seed;
        int64_t attempt;
        std::vector<int64_t> positions;
        int64_t prefix;
      };
      std::vector<Pending> pending;
      std::vector<DecodeJob> jobs;
      for (std::size_t s = first; s < last; ++s) {
        auto& st = state[s];
        const auto missing = o.num - static_cast<int64_t>(st.accepted.size());
        const auto& residues = seeds[s].residues;
        const auto length = static_cast<int64_t>(residues.size());
        for (int64_t i = 0; i < missing && st.next_attempt < st.max_attempts; ++i) {
          const int64_t attempt = st.next_attempt++;
          core::SplitMix64 rng(core::hash_words(o.seed, static_cast<uint64_t>(s), static_cast<uint64_t>(attempt)));
          Pending p{s, attempt, {}, 0};
          DecodeJob job;
          if (o.mode == GenerateMode::kInfill) {
            p.positions = fixed.empty() ? draw_positions(rng, length, random_position_count(length, o.mask_prob)) : fixed;
            job.input = infill_input(residues, p.positions, task_token);
            job.sentinels = static_cast<int64_t>(p.positions.size());
          } else {
            p.prefix = prefix_residues(length, o.prefix_fraction, o.prefix_length);
            job.input = completion_input(residues, p.prefix, task_token);
            job.max_new = o.max_new > 0 ? o.max_new : default_max_new(length, p.prefix);
          }
          job.stream = rng.next();  // sampling continues the attempt's stream after the positions
          pending.push_back(std::move(p));
          jobs.push_back(std::move(job));
        }
      }
      if (jobs.empty()) break;
      const auto decoded = decode_jobs(model, jobs, o.decoding, o.batch_size);
      for (std::size_t j = 0; j < jobs.size(); ++j) {
        const Pending& p = pending[j];
        auto& st = state[p.seed];
        const auto& seed = seeds[p.seed].residues;
        for (std::size_t c = 0; c < decoded[j].size() && (all_candidates || c == 0); ++c) {
          if (static_cast<int64_t>(st.accepted.size()) >= o.num) break;
          const Decoded& d = decoded[j][c];
          GeneratedVariant v;
          if (o.mode == GenerateMode::kInfill) {
            std::vector<int64_t> filled;
            for (std::size_t t = 1; t < d.tokens.size(); t += 2) filled.push_back(d.tokens[t]);
            v.residues = apply_infill(seed, p.positions, filled);
            v.positions = p.positions;
          } else {
            v.prefix = p.prefix;
            v.residues.assign(seed.begin(), seed.begin() + p.prefix);
            for (const int64_t t : d.tokens) v.residues.push_back(static_cast<uint8_t>(t));
          }
          v.attempt = p.attempt;
          if (!st.seen.insert(v.residues).second) continue;  // the seed, or a variant already kept
          // The reported scores come from a teacher-forced pass over this variant alone, so they do
          // not depend on which jobs shared its batch and padding (the search's own running sums do,
          // by float rounding of the logits).
          std::vector<int64_t> output(d.tokens);
          output.push_back(data::kEos);
          const Decoded scored = score_output(model, jobs[j], output);
          v.sum_logp = scored.sum_logp;
          v.mean_logp = scored.residues > 0 ? scored.sum_logp / static_cast<double>(scored.residues) : 0.0;
          st.accepted.push_back(std::move(v));
        }
      }
    }
    for (std::size_t s = first; s < last; ++s) {
      auto& st = state[s];
      if (static_cast<int64_t>(st.accepted.size()) < o.num)
        throw core::InputError("only " + std::to_string(st.accepted.size()) + " distinct variant(s) of seed '" + seeds[s].id +
                                   "' in " + std::to_string(st.next_attempt) + " attempt(s), " + std::to_string(o.num) +
                                   " were asked for (a variant equal to the seed or to another one is dropped)",
                               seeds[s].id, suggestion(o));
      out[s] = std::move(st.accepted);
      state[s] = SeedState();
    }
  }
  return out;
}

std::string variant_header(const Seed& seed, int64_t number, const GeneratedVariant& v, GenerateMode mode) {
  char scores[128];
  std::snprintf(scores, sizeof scores, "sum_logp=%.4f mean_logp=%.4f identity=%.4f", v.sum_logp, v.mean_logp,
                identity(seed.residues, v.residues));
  std::string h = seed.id + "_var" + std::to_string(number) + " seed=" + seed.id + " ";
  if (mode == GenerateMode::kInfill) {
    h += "mutations=" + mutation_list(seed.residues, v.residues) + " ";
  } else {
    h += "prefix=" + std::to_string(v.prefix) + " generated=" + std::to_string(v.residues.size() - static_cast<std::size_t>(v.prefix)) + " ";
  }
  return h + scores;
}

namespace {

std::vector<Seed> read_seeds(const GenerateOptions& o) {
  std::vector<Seed> seeds;
  data::FastaReader reader(data::InputStream::open(o.fasta), o.on_invalid);
  data::FastaRecord r;
  while (reader.next(r)) seeds.push_back({std::string(r.id), std::vector<uint8_t>(r.tokens, r.tokens + r.length)});
  if (seeds.empty())
    throw core::InputError("no protein sequences in the file", o.fasta.string(), "give a FASTA file with '>' headers and residues");
  const auto& c = reader.counts();
  if (c.empty_records > 0) spdlog::warn("generate: {} empty record(s) skipped", c.empty_records);
  if (c.skipped_invalid > 0) spdlog::warn("generate: {} record(s) with invalid characters skipped (--on-invalid skip)", c.skipped_invalid);
  return seeds;
}

// The id of the task token of the objective the model learnt this mode with (-1: none).
int64_t task_token_of(const weights::LoadedWeights& w, const GenerateOptions& o) {
  const auto id_of = [&](const std::string& token) {
    const auto it = std::find(w.task_tokens.begin(), w.task_tokens.end(), token);
    return it == w.task_tokens.end() ? int64_t{-1} : data::kVocabSize + (it - w.task_tokens.begin());
  };
  if (!o.task_token.empty()) {
    if (o.task_token == "none") return -1;
    const int64_t id = id_of(o.task_token);
    if (id < 0)
      throw core::UsageError("the model has no task token '" + o.task_token + "'", "--task-token",
                             w.task_tokens.empty() ? "this model has no task tokens: drop --task-token"
                                                   : "its task tokens: " + core::join(w.task_tokens, ", ") + " (or none)");
    return id;
  }
  const char* mode = o.mode == GenerateMode::kInfill ? "ankh" : "completion";
  if (w.hugging_face) {
    if (!w.task_tokens.empty())
      spdlog::warn("generate: a Hugging Face export does not say which task token belongs to the {} objective: none is used "
                   "(its task tokens: {}; give --task-token)", mode, core::join(w.task_tokens, ", "));
    return -1;
  }
  const data::ObjectiveConfig& objective = w.objective;
  const auto kind = o.mode == GenerateMode::kInfill ? data::ObjectiveKind::Ankh : data::ObjectiveKind::Completion;
  for (const auto& task : objective.tasks())
    if (task.kind == kind) return task.prefix_token.empty() ? -1 : id_of(task.prefix_token);
  spdlog::warn("generate: the model was not trained with the {} objective (objective kind{} {}): its {} may be poor", mode,
               objective.is_mixture() ? "s of the mixture" : "", [&] {
                 std::vector<std::string> k;
                 for (const auto& t : objective.tasks()) k.push_back(data::name_of(t.kind));
                 return core::join(k, ", ");
               }(),
               o.mode == GenerateMode::kInfill ? "infills" : "completions");
  return -1;
}

}  // namespace

GenerateResult generate_fasta(const GenerateOptions& o) {
  if (o.output.empty()) throw core::UsageError("no output file", "--output");
  // Options first, then files: nothing is read when the command cannot finish anyway.
  if (o.dtype != torch::kFloat32 && o.dtype != torch::kBFloat16) throw core::UsageError("fp32 or bf16 only", "--dtype");
  o.decoding.validate();
  if (o.num < 1) throw core::UsageError("must be at least 1", "--num");
  if (!o.positions.empty()) parse_positions(o.positions);
  if (fs::exists(o.output) && !o.overwrite)
    throw core::IoError("output file already exists", o.output.string(), "choose another --output, or pass --overwrite");
  if (fs::is_directory(o.output)) throw core::IoError("output is a directory", o.output.string(), "give a file name such as variants.fasta");
  if (!fs::exists(o.source))
    throw core::IoError("no such model directory", o.source.string(),
                        "give a checkpoint (RUN/checkpoints/step-N), a run directory or a Hugging Face directory");
  if (!fs::exists(o.fasta) || fs::is_directory(o.fasta))
    throw core::IoError(fs::exists(o.fasta) ? "a directory, not a FASTA file" : "no such FASTA file", o.fasta.string(),
                        "check the path given to --fasta");

  const std::vector<Seed> seeds = read_seeds(o);
  DecodingModel loaded = load_decoding_model(o.source, o.device, o.dtype, "generate");
  const weights::LoadedWeights& w = loaded.weights;
  model::T5Model model = loaded.model;
  const int64_t task_token = task_token_of(w, o);
  spdlog::info("generate: {} seed(s) from {}, {} variant(s) each ({}, {}), task token {}", seeds.size(), o.fasta.string(), o.num,
               o.mode == GenerateMode::kInfill ? "infill" : "complete",
               o.decoding.beam > 0 ? "beam " + std::to_string(o.decoding.beam)
               : o.decoding.sampling() ? "sampling at temperature " + core::format_double(o.decoding.temperature)
                                        : std::string("greedy"),
               task_token < 0 ? std::string("none") : data::token_name(task_token, w.task_tokens));

  core::Stopwatch watch;
  const auto variants = generate_variants(model, seeds, o, task_token);
  GenerateResult r;
  if (o.output.has_parent_path()) fs::create_directories(o.output.parent_path());
  core::AtomicFile out(o.output);
  {
    std::ofstream f(out.temp_path());
    for (std::size_t s = 0; s < seeds.size(); ++s) {
      double best = -1e300, mean_identity = 0;
      int64_t last_attempt = 0;
      for (std::size_t k = 0; k < variants[s].size(); ++k) {
        const GeneratedVariant& v = variants[s][k];
        f << '>' << variant_header(seeds[s], static_cast<int64_t>(k + 1), v, o.mode) << '\n';
        for (const uint8_t t : v.residues) f << data::kResidues[static_cast<std::size_t>(t - data::kFirstResidue)];
        f << '\n';
        best = std::max(best, v.mean_logp);
        mean_identity += identity(seeds[s].residues, v.residues) / static_cast<double>(variants[s].size());
        last_attempt = std::max(last_attempt, v.attempt);
      }
      r.attempts += last_attempt + 1;
      spdlog::info("generate: {} ({} residues): {} variants in {} attempt(s), mean identity {:.3f}, best mean_logp {:.4f}",
                   seeds[s].id, seeds[s].residues.size(), variants[s].size(), last_attempt + 1, mean_identity, best);
    }
    f.flush();
    if (!f) throw core::IoError("cannot write the output", out.temp_path().string());
  }
  core::fsync_path(out.temp_path());
  out.commit();
  r.seeds = static_cast<int64_t>(seeds.size());
  r.variants = r.seeds * o.num;
  r.source = w.source;
  r.task_token = task_token;
  r.seconds = watch.seconds();
  return r;
}

}  // namespace ankh::generation
