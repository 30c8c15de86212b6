#include "data/dataset.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/strings.h"
#include "data/composition.h"
#include "data/dataset_verify.h"
#include "data/shard_format.h"
#include "data/vocab.h"

namespace ankh::data {

namespace fs = std::filesystem;

namespace {

bool little_endian_host() {
  const uint16_t probe = 1;
  uint8_t first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

}  // namespace

Dataset::Dataset(fs::path dir) : dir_(std::move(dir)) {}
Dataset::~Dataset() = default;

std::shared_ptr<const Dataset> Dataset::open(const fs::path& dir, Verify verify) {
  if (!fs::is_directory(dir))
    throw core::InputError("dataset directory not found", dir.string(),
                           "set data.dataset to a directory written by `ankh preprocess`");
  if (verify == Verify::Full) throw_problems(verify_dataset(dir, core::VerifyOptions{}));
  std::shared_ptr<Dataset> ds(new Dataset(dir));
  ds->manifest_ = Manifest::read(dir / shard::kManifestName);
  const Manifest& m = ds->manifest_;
  const std::string where = (dir / shard::kManifestName).string();
  if (m.format != shard::kFormatName)
    throw core::InputError("not an ankh dataset manifest (format '" + m.format + "')", where);
  if (m.format_version != shard::kFormatVersion)
    throw core::InputError("dataset format version " + std::to_string(m.format_version) + ", this build of ankh reads " +
                               std::to_string(shard::kFormatVersion),
                           where, "re-run `ankh preprocess` with this build to rebuild the dataset");
  if (m.vocabulary != kVocabularyName)
    throw core::InputError("dataset vocabulary '" + m.vocabulary + "', this build of ankh uses '" + kVocabularyName + "'",
                           where, "re-run `ankh preprocess` with this build to rebuild the dataset");
  if (!little_endian_host()) throw core::InputError("shards are little-endian and this host is not", where);

  for (const ShardInfo& info : m.shards) {
    auto shard = std::make_unique<MappedShard>(dir / info.file, info);
    shard->check_offsets();
    const int k = index(info.split);
    ds->starts_[k].push_back(ds->totals_[k].sequences);
    ds->totals_[k].sequences += info.sequences;
    ds->totals_[k].residues += info.residues;
    ++ds->totals_[k].shards;
    ds->shards_[k].push_back(std::move(shard));
  }
  return ds;
}

const MappedShard& Dataset::locate(Split split, int64_t i, int64_t& local) const {
  const int k = index(split);
  if (i < 0 || i >= totals_[k].sequences)
    throw core::UsageError("sequence index " + std::to_string(i) + " out of range: the " + name_of(split) +
                           " split has " + core::format_count(totals_[k].sequences) + " sequences");
  const auto& starts = starts_[k];
  const auto it = std::upper_bound(starts.begin(), starts.end(), i);
  const std::size_t s = static_cast<std::size_t>(it - starts.begin()) - 1;
  local = i - starts[s];
  return *shards_[k][s];
}

int64_t Dataset::length(Split split, int64_t i) const {
  int64_t local = 0;
  const MappedShard& s = locate(split, i, local);
  return static_cast<int64_t>(s.offset(local + 1) - s.offset(local));
}

TokenView Dataset::tokens(Split split, int64_t i) const {
  int64_t local = 0;
  const MappedShard& s = locate(split, i, local);
  const uint64_t begin = s.offset(local);
  const TokenView view(s.tokens() + begin, static_cast<int64_t>(s.offset(local + 1) - begin));
  // One pass over bytes that are read next anyway: a corrupt byte must not reach the embedding
  // as an out-of-range index (LibTorch's error names neither the file nor the sequence).
  for (int64_t j = 0; j < view.size(); ++j) {
    if (is_stored_token(view[j])) continue;
    s.corrupt("/tokens[" + std::to_string(begin + static_cast<uint64_t>(j)) + "] = " + std::to_string(view[j]) +
              " is not a residue id: residue " + std::to_string(j) + " of sequence " + std::to_string(local) +
              " of the shard (" + name_of(split) + " sequence " + std::to_string(i) + ", record '" + s.id(local) +
              "') in dataset " + dir_.string());
  }
  return view;
}

std::string Dataset::id(Split split, int64_t i) const {
  int64_t local = 0;
  return locate(split, i, local).id(local);
}

}  // namespace ankh::data
