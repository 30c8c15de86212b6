#include "trainer/probe/probe_source.h"

#include <array>
#include <cstdio>
#include <optional>

#include <spdlog/spdlog.h>

#include "checkpoints/safetensors.h"
#include "core/config.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/timer.h"
#include "data/vocab.h"
#include "trainer/weights/embedder.h"
#include "trainer/weights/model_io.h"

namespace ankh::probe {

namespace fs = std::filesystem;

namespace {

constexpr const char* kBaseline = "baseline:";
constexpr std::string_view kStandard = "ACDEFGHIKLMNPQRSTVWY";  // the 20 standard amino acids

// Letter -> index among the 20 standard amino acids, -1 for X, B, O, U, Z and anything else.
std::array<int, 256> standard_index() {
  std::array<int, 256> index;
  index.fill(-1);
  for (std::size_t i = 0; i < kStandard.size(); ++i) index[static_cast<unsigned char>(kStandard[i])] = static_cast<int>(i);
  return index;
}

std::string hex(uint64_t v) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
  return text;
}

uint64_t ids_hash(const std::vector<Protein>& proteins) {
  uint64_t h = 0x9E3779B97F4A7C15ULL;
  for (const auto& p : proteins) h = core::hash_words(h, core::hash_bytes(p.id), core::hash_bytes(p.sequence));
  return h;
}

// The weights a Model source resolves to, identified by their file's path, size and time.
uint64_t weights_identity(const std::string& dir) {
  const fs::path file = fs::path(dir) / "model.safetensors";
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  const auto time = fs::last_write_time(file, ec).time_since_epoch().count();
  return core::hash_words(core::hash_bytes(fs::absolute(file).lexically_normal().string()), size,
                          static_cast<uint64_t>(time));
}

struct Cached {
  fs::path file;
  std::string key;  // source identity and protein ids, hex

  std::optional<Features> read() const {
    if (file.empty() || !fs::exists(file)) return std::nullopt;
    checkpoints::SafetensorsReader reader(file);
    const auto& meta = reader.metadata();
    const auto it = meta.find("key");
    if (it == meta.end() || it->second != key) return std::nullopt;
    Features f;
    f.values = reader.load("features");
    f.description = meta.count("description") ? meta.at("description") : "";
    f.step = meta.count("step") ? std::stoll(meta.at("step")) : -1;
    f.cached = true;
    return f;
  }
  void write(const Features& f) const {
    if (file.empty()) return;
    fs::create_directories(file.parent_path());
    checkpoints::write_safetensors(file, {{"features", f.values.contiguous()}},
                                   {{"key", key}, {"description", f.description}, {"step", std::to_string(f.step)}});
  }
};

std::vector<std::vector<uint8_t>> tokens_of(const std::vector<Protein>& proteins) {
  std::vector<std::vector<uint8_t>> tokens;
  tokens.reserve(proteins.size());
  for (const auto& p : proteins) tokens.push_back(residue_tokens(p.sequence));
  return tokens;
}

torch::Tensor mean_embeddings(model::T5Model& model, int64_t d_model, const std::vector<Protein>& proteins,
                              const FeatureOptions& o) {
  auto values = torch::empty({static_cast<int64_t>(proteins.size()), d_model}, torch::kFloat32);
  weights::EmbedBatchOptions batch;
  batch.batch_tokens = o.batch_tokens;
  batch.progress = o.progress;
  batch.memory_limit = o.memory_limit;
  batch.describe = [&](int64_t i) { return "protein '" + proteins[static_cast<std::size_t>(i)].id + "'"; };
  batch.length_hint = [](int64_t fitting) {
    return "the task setting max_length=" + std::to_string(fitting) + " fits (longer proteins are left out of the probe)";
  };
  weights::embed_sequences(model, tokens_of(proteins), batch,
                           [&](int64_t index, const torch::Tensor& mean, const torch::Tensor&) { values[index].copy_(mean); });
  return values;
}

// An untrained model of CONFIG's model: section, initialised from its run.seed as training would.
Features random_init_features(const ProbeSource& source, const std::vector<Protein>& proteins, const FeatureOptions& o,
                              const fs::path& cache) {
  core::ConfigSource config_source;
  config_source.add_file(source.path);
  model::ModelConfig config = core::resolve<model::ModelConfig>(config_source.only_section("model"));
  config.dropout = 0.0;
  config.activation_checkpointing = false;
  const auto* seed_setting = config_source.find("run.seed");
  const uint64_t seed = seed_setting ? std::stoull(seed_setting->value) : 1234;
  const Cached cached{cache, hex(core::hash_words(core::hash_bytes(core::dump_yaml(config)), seed,
                                                  static_cast<uint64_t>(o.dtype), ids_hash(proteins)))};
  if (auto f = cached.read()) return *f;

  core::Stopwatch watch;
  model::T5Model model = weights::initialise_model(config, seed);
  model->to(o.device, o.dtype);
  model->eval();
  Features f;
  f.values = mean_embeddings(model, config.d_model, proteins, o);
  f.description = "untrained " + source.path.string() + " (seed " + std::to_string(seed) + ")";
  f.seconds = watch.seconds();
  cached.write(f);
  return f;
}

Features model_features(const ProbeSource& source, const std::vector<Protein>& proteins, const FeatureOptions& o,
                        const fs::path& cache) {
  weights::Encoder encoder = weights::load_encoder(source.path, o.device, o.dtype);
  const Cached cached{cache, hex(core::hash_words(weights_identity(encoder.source), static_cast<uint64_t>(o.dtype),
                                                  ids_hash(proteins)))};
  if (auto f = cached.read()) return *f;
  core::Stopwatch watch;
  Features f;
  f.values = mean_embeddings(encoder.model, encoder.d_model, proteins, o);
  f.step = encoder.step;
  f.description = (encoder.hugging_face ? "Hugging Face model " : "checkpoint ") + encoder.source +
                  (encoder.step >= 0 ? " (step " + std::to_string(encoder.step) + ")" : "");
  f.seconds = watch.seconds();
  cached.write(f);
  return f;
}

}  // namespace

ProbeSource parse_probe_source(const std::string& text) {
  ProbeSource s;
  s.text = text;
  if (text.rfind(kBaseline, 0) != 0) {
    s.kind = SourceKind::Model;
    s.path = text;
    if (!fs::is_directory(s.path))
      throw core::UsageError("no such model directory", text,
                             "give a checkpoint, a run or a Hugging Face directory, or baseline:composition, "
                             "baseline:dipeptide, baseline:random-init:CONFIG");
    return s;
  }
  const std::string name = text.substr(std::string(kBaseline).size());
  const std::string random_init = "random-init:";
  if (name == "composition") s.kind = SourceKind::Composition;
  else if (name == "dipeptide") s.kind = SourceKind::Dipeptide;
  else if (name.rfind(random_init, 0) == 0) {
    s.kind = SourceKind::RandomInit;
    s.path = name.substr(random_init.size());
    if (!fs::is_regular_file(s.path))
      throw core::UsageError("no such config file", s.path.string(), "baseline:random-init:CONFIG names a run config");
  } else {
    throw core::UsageError("unknown baseline '" + name + "'", text,
                           "baselines: baseline:composition, baseline:dipeptide, baseline:random-init:CONFIG");
  }
  return s;
}

torch::Tensor composition_features(const std::vector<Protein>& proteins) {
  static const auto index = standard_index();
  auto out = torch::zeros({static_cast<int64_t>(proteins.size()), 20}, torch::kFloat32);
  auto a = out.accessor<float, 2>();
  for (std::size_t i = 0; i < proteins.size(); ++i) {
    const auto& t = proteins[i].sequence;
    for (const unsigned char c : t)
      if (index[c] >= 0) a[i][index[c]] += 1.0F;
    if (!t.empty())
      for (int j = 0; j < 20; ++j) a[i][j] /= static_cast<float>(t.size());
  }
  return out;
}

torch::Tensor dipeptide_features(const std::vector<Protein>& proteins) {
  static const auto index = standard_index();
  auto out = torch::zeros({static_cast<int64_t>(proteins.size()), 400}, torch::kFloat32);
  auto a = out.accessor<float, 2>();
  for (std::size_t i = 0; i < proteins.size(); ++i) {
    const auto& t = proteins[i].sequence;
    for (std::size_t j = 1; j < t.size(); ++j) {
      const int first = index[static_cast<unsigned char>(t[j - 1])], second = index[static_cast<unsigned char>(t[j])];
      if (first >= 0 && second >= 0) a[i][first * 20 + second] += 1.0F;
    }
    if (t.size() > 1)
      for (int j = 0; j < 400; ++j) a[i][j] /= static_cast<float>(t.size() - 1);
  }
  return out;
}

Features protein_features(const ProbeSource& source, const std::vector<Protein>& proteins, const FeatureOptions& options,
                          const fs::path& cache) {
  switch (source.kind) {
    case SourceKind::Model:
      return model_features(source, proteins, options, cache);
    case SourceKind::RandomInit:
      return random_init_features(source, proteins, options, cache);
    case SourceKind::Composition: {
      core::Stopwatch watch;
      return {composition_features(proteins), "amino-acid composition (20)", -1, watch.seconds(), false};
    }
    case SourceKind::Dipeptide: {
      core::Stopwatch watch;
      return {dipeptide_features(proteins), "dipeptide composition (400)", -1, watch.seconds(), false};
    }
  }
  throw core::Error("unknown probe source kind", source.text);
}

}  // namespace ankh::probe
