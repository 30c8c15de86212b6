#include "trainer/weights/embedder.h"

#include <algorithm>
#include <numeric>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/files.h"
#include "core/progress.h"
#include "core/strings.h"
#include "core/timer.h"
#include "data/input_stream.h"
#include "data/vocab.h"
#include "trainer/model/inference_memory.h"
#include "trainer/weights/embeddings_file.h"
#include "trainer/weights/model_io.h"

namespace ankh::weights {

namespace fs = std::filesystem;

std::vector<std::vector<int64_t>> plan_batches(const std::vector<int64_t>& lengths, int64_t batch_tokens,
                                               const BatchFits& fits) {
  std::vector<int64_t> order(lengths.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return lengths[static_cast<std::size_t>(a)] > lengths[static_cast<std::size_t>(b)];
  });
  std::vector<std::vector<int64_t>> batches;
  int64_t longest = 0;  // of the open batch, with </s>: the first one, since lengths decrease
  for (const int64_t i : order) {
    const int64_t tokens = lengths[static_cast<std::size_t>(i)] + 1;
    const auto grown = static_cast<int64_t>(batches.empty() ? 0 : batches.back().size() + 1);
    // Memory grows with the batch at the open batch's (longest) length: a batch over the bound
    // becomes several smaller ones of the same proteins.
    if (batches.empty() || grown * longest > batch_tokens || (fits && !fits(grown, longest))) {
      batches.emplace_back();
      longest = tokens;
    }
    batches.back().push_back(i);
  }
  return batches;
}

int64_t longest_fitting(const BatchFits& fits, int64_t upper_bound) {
  if (!fits(1, 2)) return 0;
  int64_t good = 1, bad = upper_bound + 1;  // fits(1, good + 1) holds; bad residues do not fit (or exceed the bound)
  while (bad - good > 1) {
    const int64_t mid = good + (bad - good) / 2;
    (fits(1, mid + 1) ? good : bad) = mid;
  }
  return good;
}

namespace {

// The memory a batch may use, and the error for a protein that does not fit even alone.
struct MemoryBound {
  model::ModelConfig config;
  torch::ScalarType dtype = torch::kFloat32;
  double budget = 0;
  std::string limited_by;

  double estimate(int64_t batch, int64_t tokens) const {
    return model::estimate_encoder_inference(config, batch, tokens, dtype).total();
  }
  bool fits(int64_t batch, int64_t tokens) const { return estimate(batch, tokens) <= budget; }

  [[noreturn]] void refuse(int64_t index, const std::vector<int64_t>& lengths, const EmbedBatchOptions& o) const {
    const int64_t length = lengths[static_cast<std::size_t>(index)];
    const auto need = model::estimate_encoder_inference(config, 1, length + 1, dtype);
    // The suggested length leaves a tenth of the memory spare: what is available moves a little
    // from run to run (other processes, the address space of threads), and a hint at the very
    // edge would fail the next run by a hair.
    const int64_t fitting =
        longest_fitting([this](int64_t b, int64_t t) { return estimate(b, t) <= 0.9 * budget; }, length);
    const auto longer = std::count_if(lengths.begin(), lengths.end(), [&](int64_t l) { return l > fitting; });
    const std::string where = o.describe ? o.describe(index) : "protein " + std::to_string(index + 1);
    std::string hint;
    if (fitting == 0) {
      hint = "the weights alone (" + core::format_bytes(need.weights) + ") leave no room in " + core::format_bytes(budget) +
             ": give more memory (" + o.memory_limit_option + "), or use a smaller --dtype";
    } else {
      hint = (o.length_hint ? o.length_hint(fitting)
                            : "proteins of at most " + core::format_count(fitting) + " residues fit") +
             "; " + core::format_count(static_cast<int64_t>(longer)) + " of " + core::format_count(static_cast<int64_t>(lengths.size())) +
             " proteins are longer. Or allow more memory (" + o.memory_limit_option +
             " when the detected limit is wrong), or use --dtype bf16 or a GPU";
    }
    throw core::Error("protein of " + core::format_count(length) + " residues needs an estimated " +
                          core::format_bytes(need.total()) + " (weights " + core::format_bytes(need.weights) +
                          " + encoder forward " + core::format_bytes(need.activations) + "), more than the " +
                          core::format_bytes(budget) + " available (" + limited_by + ")",
                      where, hint);
  }
};

MemoryBound memory_bound(model::T5Model& model, const EmbedBatchOptions& o) {
  MemoryBound m;
  m.config = model->config();
  const torch::Tensor& weight = model->shared->weight;
  m.dtype = weight.scalar_type();
  if (o.memory_limit > 0) {
    m.budget = o.memory_limit;
    m.limited_by = o.memory_limit_option + " " + core::format_bytes(o.memory_limit);
  } else {
    // The weights are loaded already: what the device can still give comes on top of them.
    const model::MemoryHeadroom headroom = model::memory_headroom(weight.device());
    m.budget = headroom.bytes + model::estimate_encoder_inference(m.config, 1, 1, m.dtype).weights;
    m.limited_by = headroom.limited_by;
  }
  return m;
}

}  // namespace

int64_t embed_sequences(model::T5Model& model, const std::vector<std::vector<uint8_t>>& sequences,
                        const EmbedBatchOptions& options, const EmbeddingSink& sink) {
  std::vector<int64_t> lengths;
  for (const auto& s : sequences) {
    if (s.empty()) throw core::Error("an empty sequence has no mean embedding", "embed_sequences");
    lengths.push_back(static_cast<int64_t>(s.size()));
  }
  const torch::Device device = model->shared->weight.device();
  torch::NoGradGuard no_grad;
  model->eval();
  std::unique_ptr<core::Progress> progress;
  if (options.progress) progress = std::make_unique<core::Progress>("embed", static_cast<int64_t>(sequences.size()), "proteins");

  // Planned and checked before the first batch: a protein too long for the memory ends the run
  // at once, naming it, instead of in the allocator or the OOM killer hours in.
  const MemoryBound bound = memory_bound(model, options);
  const auto batches = plan_batches(lengths, options.batch_tokens, [&](int64_t b, int64_t t) { return bound.fits(b, t); });
  if (!batches.empty() && !bound.fits(1, lengths[static_cast<std::size_t>(batches.front().front())] + 1))
    bound.refuse(batches.front().front(), lengths, options);
  if (const auto unbounded = plan_batches(lengths, options.batch_tokens).size(); unbounded < batches.size())
    spdlog::info("embed: {} batches instead of {} to stay within {} ({})", batches.size(), unbounded,
                 core::format_bytes(bound.budget), bound.limited_by);

  for (const auto& batch : batches) {
    const auto b = static_cast<int64_t>(batch.size());
    const int64_t t = lengths[static_cast<std::size_t>(batch.front())] + 1;  // the longest comes first
    torch::Tensor ids = torch::zeros({b, t}, torch::kLong);  // <pad> = 0
    torch::Tensor mask = torch::zeros({b, t}, torch::kLong);
    torch::Tensor residue_mask = torch::zeros({b, t}, torch::kFloat);
    auto ids_a = ids.accessor<int64_t, 2>();
    auto mask_a = mask.accessor<int64_t, 2>();
    auto residue_a = residue_mask.accessor<float, 2>();
    for (int64_t r = 0; r < b; ++r) {
      const auto& seq = sequences[static_cast<std::size_t>(batch[static_cast<std::size_t>(r)])];
      const auto l = static_cast<int64_t>(seq.size());
      for (int64_t j = 0; j < l; ++j) {
        ids_a[r][j] = seq[static_cast<std::size_t>(j)];
        mask_a[r][j] = 1;
        residue_a[r][j] = 1;
      }
      ids_a[r][l] = data::kEos;  // encoded as in training, but not part of the mean
      mask_a[r][l] = 1;
    }
    const torch::Tensor hidden = model->encode(ids.to(device), mask.to(device)).to(torch::kFloat);  // [b, t, d]
    const torch::Tensor rm = residue_mask.to(device);
    // Mean in float32 over residue positions only: padding and </s> weigh zero.
    const torch::Tensor mean = ((hidden * rm.unsqueeze(-1)).sum(1) / rm.sum(1, /*keepdim=*/true)).to(torch::kCPU).contiguous();
    torch::Tensor rows;
    if (options.per_residue) rows = hidden.to(torch::kCPU).contiguous();
    for (int64_t r = 0; r < b; ++r) {
      const int64_t index = batch[static_cast<std::size_t>(r)];
      sink(index, mean[r], options.per_residue ? rows[r].narrow(0, 0, lengths[static_cast<std::size_t>(index)]) : torch::Tensor());
    }
    if (progress) progress->advance(b);
  }
  if (progress) progress->finish();
  return static_cast<int64_t>(batches.size());
}

namespace {

struct Proteins {
  std::vector<std::string> ids;
  std::vector<std::vector<uint8_t>> tokens;
  std::vector<int64_t> fasta_lengths;
  std::vector<int64_t> lines;  // of each header, for errors that name a protein
  int64_t truncated = 0, skipped = 0, duplicates = 0;
  std::vector<std::string> truncated_examples;
};

Proteins read_proteins(const fs::path& fasta, data::InvalidPolicy policy, int64_t max_length) {
  Proteins p;
  data::FastaReader reader(data::InputStream::open(fasta), policy);
  data::FastaRecord record;
  std::unordered_set<std::string> seen;
  while (reader.next(record)) {
    const auto keep = max_length > 0 ? std::min<std::size_t>(record.length, static_cast<std::size_t>(max_length)) : record.length;
    if (keep < record.length) {
      ++p.truncated;
      if (p.truncated_examples.size() < 3)
        p.truncated_examples.push_back(std::string(record.id) + " (" + std::to_string(record.length) + ")");
    }
    p.ids.emplace_back(record.id);
    if (!seen.insert(p.ids.back()).second) ++p.duplicates;
    p.tokens.emplace_back(record.tokens, record.tokens + keep);
    p.fasta_lengths.push_back(static_cast<int64_t>(record.length));
    p.lines.push_back(record.line);
  }
  const auto& c = reader.counts();
  p.skipped = c.empty_records + c.skipped_invalid;
  if (p.ids.empty())
    throw core::InputError("no protein sequences in the file", fasta.string(), "give a FASTA file with '>' headers and residues");
  if (c.empty_records > 0) spdlog::warn("embed: {} empty record(s) skipped (no embedding, not in the output)", c.empty_records);
  if (c.skipped_invalid > 0) spdlog::warn("embed: {} record(s) with invalid characters skipped (--on-invalid skip)", c.skipped_invalid);
  if (c.unknown_residues > 0) spdlog::warn("embed: {} invalid character(s) embedded as <unk> (--on-invalid unk)", c.unknown_residues);
  if (p.duplicates > 0) spdlog::warn("embed: {} record(s) repeat an earlier id (kept, in FASTA order)", p.duplicates);
  if (p.truncated > 0)
    spdlog::warn("embed: {} protein(s) longer than --max-length {} embedded from their first {} residues, e.g. {}", p.truncated,
                 max_length, max_length, core::join(p.truncated_examples, ", "));
  return p;
}

const char* dtype_flag(torch::ScalarType dtype) { return dtype == torch::kBFloat16 ? "bf16" : "fp32"; }

}  // namespace

Encoder load_encoder(const fs::path& source, const torch::Device& device, torch::ScalarType dtype) {
  LoadedWeights w = load_weights(source);
  if (w.hugging_face) check_hf_vocabulary(source, w.task_tokens);  // the task tokens its config.json lists
  if (w.config.vocab_size < data::kFirstResidue + data::kNumResidues)
    throw core::CheckpointError("vocab_size " + std::to_string(w.config.vocab_size) + " is too small for Ankh's residue ids",
                                w.source, "ankh embeds with Ankh's 144-token vocabulary");
  model::ModelConfig config = w.config;
  config.decoder_layers = 1;  // only the encoder runs: a one-block decoder saves the memory of the real one
  config.dropout = 0.0;
  config.activation_checkpointing = false;
  Encoder e;
  e.model = model::T5Model(config);
  load_parameters(e.model, w.tensors, w.source, ParameterSet::kEncoder);
  e.model->to(device, dtype);
  e.model->eval();
  e.source = w.source;
  e.step = w.step;
  e.hugging_face = w.hugging_face;
  e.d_model = config.d_model;
  return e;
}

EmbedResult embed_fasta(const EmbedOptions& o) {
  if (o.batch.batch_tokens < 1) throw core::UsageError("must be at least 1", "--batch-tokens");
  if (o.max_length < 0) throw core::UsageError("must be 0 (no limit) or more", "--max-length");
  if (o.dtype != torch::kFloat32 && o.dtype != torch::kBFloat16) throw core::UsageError("fp32 or bf16 only", "--dtype");
  if (o.output.empty()) throw core::UsageError("no output file", "--output");
  // Cheap refusals first: nothing is read when the command cannot finish anyway.
  if (fs::exists(o.output) && !o.overwrite)
    throw core::IoError("output file already exists", o.output.string(), "choose another --output, or pass --overwrite");
  if (fs::is_directory(o.output)) throw core::IoError("output is a directory", o.output.string(), "give a file name such as embeddings.h5");
  if (!fs::exists(o.source))
    throw core::IoError("no such model directory", o.source.string(),
                        "give a checkpoint (RUN/checkpoints/step-N), a run directory or a Hugging Face directory");
  if (!fs::exists(o.fasta) || fs::is_directory(o.fasta))  // a pipe (<(zcat ...)) is fine
    throw core::IoError(fs::exists(o.fasta) ? "a directory, not a FASTA file" : "no such FASTA file", o.fasta.string(),
                        "check the path given to --fasta");

  const Proteins proteins = read_proteins(o.fasta, o.on_invalid, o.max_length);

  Encoder encoder = load_encoder(o.source, o.device, o.dtype);
  model::T5Model& model = encoder.model;

  EmbeddingsLayout layout;
  layout.ids = proteins.ids;
  for (const auto& t : proteins.tokens) layout.lengths.push_back(static_cast<int64_t>(t.size()));
  layout.fasta_lengths = proteins.fasta_lengths;
  layout.d_model = encoder.d_model;
  layout.per_residue = o.batch.per_residue;
  layout.text_attributes = {{"source", encoder.source},
                            {"source_kind", encoder.hugging_face ? "huggingface" : "checkpoint"},
                            {"fasta", o.fasta.string()},
                            {"pooling", "mean over residue positions (</s> and padding excluded)"},
                            {"dtype", dtype_flag(o.dtype)},
                            {"vocabulary", data::kVocabularyName}};
  layout.integer_attributes = {{"step", encoder.step}, {"max_length", o.max_length}, {"truncated", proteins.truncated}};

  EmbedBatchOptions batch = o.batch;
  batch.describe = [&](int64_t i) {
    const auto k = static_cast<std::size_t>(i);
    return o.fasta.string() + ":" + std::to_string(proteins.lines[k]) + " (protein '" + proteins.ids[k] + "', number " +
           core::format_count(i + 1) + " of " + core::format_count(static_cast<int64_t>(proteins.ids.size())) + ")";
  };
  batch.length_hint = [](int64_t fitting) {
    return "--max-length " + std::to_string(fitting) + " fits: longer proteins are then embedded from their first " +
           std::to_string(fitting) + " residues (counted and warned about)";
  };

  core::Stopwatch watch;
  if (o.output.has_parent_path()) fs::create_directories(o.output.parent_path());
  core::AtomicFile out(o.output);  // removed unless committed: no half-written file under the output's name
  {
    EmbeddingsWriter writer(out.temp_path(), layout, o.output.string());
    embed_sequences(model, proteins.tokens, batch,
                    [&](int64_t index, const torch::Tensor& mean, const torch::Tensor& rows) { writer.write(index, mean, rows); });
    writer.close();
  }
  core::fsync_path(out.temp_path());
  out.commit();

  EmbedResult r;
  r.proteins = static_cast<int64_t>(proteins.ids.size());
  for (const int64_t l : layout.lengths) r.residues += l;
  r.truncated = proteins.truncated;
  r.skipped = proteins.skipped;
  r.d_model = encoder.d_model;
  r.step = encoder.step;
  r.source = encoder.source;
  r.seconds = watch.seconds();
  return r;
}

}  // namespace ankh::weights
