#include "trainer/generation/variant_scoring.h"

#include "trainer/generation/decoding_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <unordered_map>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "core/config_source.h"
#include "core/error.h"
#include "core/files.h"
#include "core/progress.h"
#include "core/strings.h"
#include "core/timer.h"
#include "data/fasta_reader.h"
#include "data/input_stream.h"
#include "data/vocab.h"
#include "trainer/weights/model_io.h"

namespace ankh::generation {

namespace fs = std::filesystem;

MaskedPass masked_pass(const std::vector<uint8_t>& protein, const std::vector<int64_t>& positions) {
  MaskedPass p;
  p.input_ids.assign(protein.begin(), protein.end());
  p.input_ids.push_back(data::kEos);
  p.decoder_input_ids.push_back(data::kDecoderStart);
  for (std::size_t i = 0; i < positions.size(); ++i) {
    const int64_t at = positions[i] - 1;
    if (at < 0 || at >= static_cast<int64_t>(protein.size()) || (i > 0 && positions[i] <= positions[i - 1]))
      throw core::Error("positions must increase within the protein", "masked_pass");
    const int64_t s = data::sentinel(static_cast<int64_t>(i));
    p.input_ids[static_cast<std::size_t>(at)] = s;
    p.decoder_input_ids.push_back(s);
    p.decoder_input_ids.push_back(protein[static_cast<std::size_t>(at)]);
  }
  return p;
}

namespace {

struct PassKey {
  int64_t protein;
  std::vector<int64_t> positions;
  bool operator<(const PassKey& o) const {
    return protein != o.protein ? protein < o.protein : positions < o.positions;
  }
};

}  // namespace

std::vector<double> score_variants(model::T5Model& model, const std::vector<std::vector<uint8_t>>& proteins,
                                   const std::vector<Variant>& variants, const ScoreBatchOptions& options, ScoreStats* stats) {
  if (options.batch_size < 1) throw core::UsageError("must be at least 1", "--batch-size");
  // One pass per distinct (protein, position set).
  std::map<PassKey, int64_t> index_of;
  std::vector<PassKey> passes;
  std::vector<int64_t> pass_of(variants.size(), -1);
  for (std::size_t v = 0; v < variants.size(); ++v) {
    const Variant& variant = variants[v];
    if (variant.substitutions.empty()) continue;
    PassKey key{variant.protein, {}};
    for (const Substitution& s : variant.substitutions) key.positions.push_back(s.position);
    auto [it, inserted] = index_of.emplace(key, static_cast<int64_t>(passes.size()));
    if (inserted) passes.push_back(std::move(key));
    pass_of[v] = it->second;
  }
  // Longest first (encoder length, then decoder length), ties in first-seen order.
  std::vector<int64_t> order(passes.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const PassKey& x = passes[static_cast<std::size_t>(a)];
    const PassKey& y = passes[static_cast<std::size_t>(b)];
    const auto lx = proteins[static_cast<std::size_t>(x.protein)].size(), ly = proteins[static_cast<std::size_t>(y.protein)].size();
    return lx != ly ? lx > ly : x.positions.size() > y.positions.size();
  });

  const torch::Device device = model->shared->weight.device();
  torch::NoGradGuard no_grad;
  model->eval();
  std::unique_ptr<core::Progress> progress;
  if (options.progress) progress = std::make_unique<core::Progress>("score", static_cast<int64_t>(passes.size()), "passes");

  // log p at each masked position of each pass: [m, vocab] float32 on the CPU.
  std::vector<torch::Tensor> log_probs(passes.size());
  int64_t batches = 0;
  for (std::size_t first = 0; first < order.size(); first += static_cast<std::size_t>(options.batch_size)) {
    const std::size_t last = std::min(order.size(), first + static_cast<std::size_t>(options.batch_size));
    const auto b = static_cast<int64_t>(last - first);
    std::vector<MaskedPass> built;
    int64_t le = 0, ld = 0;
    for (std::size_t k = first; k < last; ++k) {
      const PassKey& key = passes[static_cast<std::size_t>(order[k])];
      built.push_back(masked_pass(proteins[static_cast<std::size_t>(key.protein)], key.positions));
      le = std::max<int64_t>(le, static_cast<int64_t>(built.back().input_ids.size()));
      ld = std::max<int64_t>(ld, static_cast<int64_t>(built.back().decoder_input_ids.size()));
    }
    torch::Tensor ids = torch::zeros({b, le}, torch::kLong), mask = torch::zeros({b, le}, torch::kLong);
    torch::Tensor dec = torch::zeros({b, ld}, torch::kLong), dec_mask = torch::zeros({b, ld}, torch::kLong);
    auto ids_a = ids.accessor<int64_t, 2>(), mask_a = mask.accessor<int64_t, 2>();
    auto dec_a = dec.accessor<int64_t, 2>(), dec_mask_a = dec_mask.accessor<int64_t, 2>();
    for (int64_t r = 0; r < b; ++r) {
      const MaskedPass& p = built[static_cast<std::size_t>(r)];
      for (std::size_t j = 0; j < p.input_ids.size(); ++j) {
        ids_a[r][static_cast<int64_t>(j)] = p.input_ids[j];
        mask_a[r][static_cast<int64_t>(j)] = 1;
      }
      for (std::size_t j = 0; j < p.decoder_input_ids.size(); ++j) {
        dec_a[r][static_cast<int64_t>(j)] = p.decoder_input_ids[j];
        dec_mask_a[r][static_cast<int64_t>(j)] = 1;
      }
    }
    const torch::Tensor mask_d = mask.to(device);
    const torch::Tensor hidden = model->encode(ids.to(device), mask_d);
    const torch::Tensor logits = model->decode(dec.to(device), dec_mask.to(device), hidden, mask_d);  // [b, ld, V]
    // Steps 1, 3, 5, ... predict the residues: log-softmax over the whole vocabulary, in float32.
    const torch::Tensor lp = logits.slice(1, 1, ld, 2).to(torch::kFloat).log_softmax(-1).to(torch::kCPU).contiguous();
    for (int64_t r = 0; r < b; ++r) {
      const int64_t pass = order[first + static_cast<std::size_t>(r)];
      const auto m = static_cast<int64_t>(passes[static_cast<std::size_t>(pass)].positions.size());
      log_probs[static_cast<std::size_t>(pass)] = lp[r].narrow(0, 0, m).clone();
    }
    ++batches;
    if (progress) progress->advance(b);
  }
  if (progress) progress->finish();

  std::vector<double> scores(variants.size(), 0.0);
  for (std::size_t v = 0; v < variants.size(); ++v) {
    if (pass_of[v] < 0) continue;
    const torch::Tensor& t = log_probs[static_cast<std::size_t>(pass_of[v])];
    const auto a = t.accessor<float, 2>();
    double sum = 0;
    for (std::size_t i = 0; i < variants[v].substitutions.size(); ++i) {
      const Substitution& s = variants[v].substitutions[i];
      const auto row = static_cast<int64_t>(i);
      sum += static_cast<double>(a[row][data::residue_id(static_cast<unsigned char>(s.mutant))]) -
             static_cast<double>(a[row][data::residue_id(static_cast<unsigned char>(s.wild_type))]);
    }
    scores[v] = sum;
  }
  if (stats != nullptr) {
    stats->passes = static_cast<int64_t>(passes.size());
    stats->batches = batches;
  }
  return scores;
}

std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;  // average of ranks i+1 .. j+1
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) throw core::Error("spearman of lists of different lengths", "spearman");
  const std::size_t n = x.size();
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  const auto rx = average_ranks(x), ry = average_ranks(y);
  const double mean = (static_cast<double>(n) + 1.0) / 2.0;  // of ranks 1..n, ties included
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxy += (rx[i] - mean) * (ry[i] - mean);
    sxx += (rx[i] - mean) * (rx[i] - mean);
    syy += (ry[i] - mean) * (ry[i] - mean);
  }
  if (sxx == 0 || syy == 0) return std::numeric_limits<double>::quiet_NaN();
  return sxy / std::sqrt(sxx * syy);
}

Scorer load_scorer(const fs::path& source, const torch::Device& device, torch::ScalarType dtype) {
  DecodingModel loaded = load_decoding_model(source, device, dtype, "score variants");
  const weights::LoadedWeights& w = loaded.weights;
  Scorer s;
  s.model = loaded.model;
  s.source = w.source;
  s.step = w.step;
  s.hugging_face = w.hugging_face;
  s.trained_length = w.max_length;
  return s;
}

namespace {

struct Fasta {
  std::vector<std::string> ids, letters;
  std::vector<std::vector<uint8_t>> tokens;
  std::map<std::string, int64_t> index;  // id -> record; -1 when the id repeats
};

Fasta read_fasta(const fs::path& path) {
  Fasta f;
  data::FastaReader reader(data::InputStream::open(path), data::InvalidPolicy::Error);
  data::FastaRecord record;
  while (reader.next(record)) {
    const auto i = static_cast<int64_t>(f.ids.size());
    f.ids.emplace_back(record.id);
    f.tokens.emplace_back(record.tokens, record.tokens + record.length);
    std::string letters(record.length, '?');
    for (std::size_t j = 0; j < record.length; ++j)
      letters[j] = data::is_residue(record.tokens[j]) ? data::kResidues[static_cast<std::size_t>(record.tokens[j] - data::kFirstResidue)] : '?';
    f.letters.push_back(std::move(letters));
    auto [it, inserted] = f.index.emplace(f.ids.back(), i);
    if (!inserted) it->second = -1;
  }
  if (f.ids.empty()) throw core::InputError("no protein sequences in the file", path.string(), "give the wild types as FASTA records");
  return f;
}

bool is_missing(const std::string& v) {
  const std::string t = core::to_lower(core::trim(v));
  return t.empty() || t == "na" || t == "nan" || t == "n/a" || t == "none" || t == "null";
}

std::string format_score(double v) { return fmt::format("{:.6f}", v == 0.0 ? 0.0 : v); }

}  // namespace

ScoreResult score_file(const ScoreOptions& o) {
  core::Stopwatch total;
  if (o.batch.batch_size < 1) throw core::UsageError("must be at least 1", "--batch-size");
  if (o.dtype != torch::kFloat32 && o.dtype != torch::kBFloat16) throw core::UsageError("fp32 or bf16 only", "--dtype");
  if (o.output.empty()) throw core::UsageError("no output file", "--output");
  if (fs::is_directory(o.output)) throw core::IoError("output is a directory", o.output.string(), "give a file name such as scores.csv");
  if (fs::exists(o.output) && !o.overwrite)
    throw core::IoError("output file already exists", o.output.string(), "choose another --output, or pass --overwrite");
  if (!fs::exists(o.source))
    throw core::IoError("no such model directory", o.source.string(),
                        "give a checkpoint (RUN/checkpoints/step-N), a run directory or a Hugging Face directory");
  for (const auto& [path, option] : {std::pair{o.fasta, "--fasta"}, std::pair{o.mutations, "--mutations"}})
    if (!fs::exists(path) || fs::is_directory(path))
      throw core::IoError(fs::exists(path) ? "a directory, not a file" : "no such file", path.string(),
                          std::string("check the path given to ") + option);

  const std::string csv_name = o.mutations.string();
  const CsvTable table = parse_csv(core::read_file(o.mutations), csv_name);
  const int64_t mutant_col = table.column("mutant");
  if (mutant_col < 0)
    throw core::InputError("no column 'mutant' (columns: " + core::join(table.header, ", ") + ")", csv_name,
                           "the ProteinGym layout: a 'mutant' column such as A23G:K40R, optionally DMS_score and protein");
  if (table.column("score") >= 0)
    throw core::InputError("the input already has a column 'score', which the output adds", csv_name, "rename that column");
  const int64_t protein_col = table.column("protein");
  const int64_t dms_col = table.column("DMS_score");

  const Fasta fasta = read_fasta(o.fasta);
  if (fasta.ids.size() > 1 && protein_col < 0)
    throw core::InputError("the FASTA holds " + std::to_string(fasta.ids.size()) +
                               " records, so each row must name its protein, and there is no column 'protein'",
                           csv_name, "add a 'protein' column with the FASTA id (first word of the header) of each row");

  ScoreResult result;
  result.rows = static_cast<int64_t>(table.rows.size());
  result.has_dms = dms_col >= 0;
  std::vector<Variant> variants;
  std::vector<double> dms(table.rows.size(), std::numeric_limits<double>::quiet_NaN());
  std::vector<bool> protein_used(fasta.ids.size(), false);
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    const auto& row = table.rows[r];
    const std::string where = csv_name + ":" + std::to_string(table.lines[r]) + " (row " + std::to_string(r + 1) + ")";
    int64_t protein = 0;
    const std::string named = protein_col >= 0 ? core::trim(row[static_cast<std::size_t>(protein_col)]) : std::string();
    if (!named.empty() || fasta.ids.size() > 1) {
      const auto it = fasta.index.find(named);
      if (named.empty())
        throw core::InputError("no protein named, and the FASTA holds " + std::to_string(fasta.ids.size()) + " records", where,
                               "fill the 'protein' column with a FASTA id");
      if (it == fasta.index.end())
        throw core::InputError("protein '" + named + "' is not a record of " + o.fasta.string(), where,
                               "the 'protein' column names a FASTA id (the first word of the header)");
      if (it->second < 0)
        throw core::InputError("protein '" + named + "' names several records of " + o.fasta.string(), where,
                               "give each FASTA record its own id");
      protein = it->second;
    }
    const std::string& text = row[static_cast<std::size_t>(mutant_col)];
    Variant v;
    v.protein = protein;
    v.substitutions = parse_mutant(text, where);
    check_mutant(v.substitutions, fasta.letters[static_cast<std::size_t>(protein)], text,
                 fasta.ids[static_cast<std::size_t>(protein)], where);
    result.positions += static_cast<int64_t>(v.substitutions.size());
    protein_used[static_cast<std::size_t>(protein)] = true;
    variants.push_back(std::move(v));
    if (dms_col >= 0) {
      const std::string& d = row[static_cast<std::size_t>(dms_col)];
      if (is_missing(d)) {
        ++result.dms_skipped;
      } else if (const auto value = core::parse_double(core::trim(d)); value && std::isfinite(*value)) {
        dms[r] = *value;
      } else {
        throw core::InputError("DMS_score '" + d + "' is not a number", where, "leave it blank or NA to skip the row in the correlation");
      }
    }
  }
  result.proteins = std::count(protein_used.begin(), protein_used.end(), true);

  core::Stopwatch watch;
  Scorer scorer = load_scorer(o.source, o.device, o.dtype);
  result.load_seconds = watch.seconds();
  result.source = scorer.source;
  result.step = scorer.step;
  if (scorer.trained_length > 1) {
    std::vector<std::string> examples;
    for (std::size_t p = 0; p < fasta.ids.size(); ++p)
      if (protein_used[p] && static_cast<int64_t>(fasta.tokens[p].size()) > scorer.trained_length - 1) {
        ++result.longer_than_trained;
        if (examples.size() < 3) examples.push_back(fasta.ids[p] + " (" + std::to_string(fasta.tokens[p].size()) + ")");
      }
    if (result.longer_than_trained > 0)
      spdlog::warn("score: {} protein(s) longer than the {} residues the model was trained on (data.max_length {}), scored whole "
                   "(no cropping), e.g. {}",
                   result.longer_than_trained, scorer.trained_length - 1, scorer.trained_length, core::join(examples, ", "));
  }

  watch.reset();
  const std::vector<double> scores = score_variants(scorer.model, fasta.tokens, variants, o.batch, &result.stats);
  result.score_seconds = watch.seconds();

  std::vector<std::string> column;
  column.reserve(scores.size());
  for (const double s : scores) column.push_back(format_score(s));
  if (o.output.has_parent_path()) fs::create_directories(o.output.parent_path());
  core::write_file_atomic(o.output, csv_with_column(table, "score", column));

  if (dms_col >= 0) {
    const auto correlate = [&](int64_t protein) {
      Correlation c;
      if (protein >= 0) c.protein = fasta.ids[static_cast<std::size_t>(protein)];
      std::vector<double> x, y;
      for (std::size_t r = 0; r < variants.size(); ++r)
        if (!std::isnan(dms[r]) && (protein < 0 || variants[r].protein == protein)) {
          x.push_back(scores[r]);
          y.push_back(dms[r]);
        }
      c.pairs = static_cast<int64_t>(x.size());
      c.spearman = spearman(x, y);
      return c;
    };
    result.overall = correlate(-1);
    if (result.proteins > 1)
      for (std::size_t p = 0; p < fasta.ids.size(); ++p)
        if (protein_used[p]) result.per_protein.push_back(correlate(static_cast<int64_t>(p)));
  }
  result.seconds = total.seconds();
  return result;
}

}  // namespace ankh::generation
