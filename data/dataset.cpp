#include "data/dataset.h"

#include <cstring>
#include <mutex>

#include "core/error.h"
#include "core/strings.h"
#include "data/hdf5_util.h"
#include "data/mapped_file.h"
#include "data/shard_format.h"
#include "data/vocab.h"

namespace ankh::data {

namespace fs = std::filesystem;

namespace {

// The mapped offsets may sit at any byte address inside the file: load through memcpy.
inline uint64_t load_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

bool little_endian_host() {
  const uint16_t probe = 1;
  uint8_t first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

const char* kRebuildHint = "the dataset is damaged or was changed after `ankh preprocess`; re-run it";

}  // namespace

struct Dataset::Shard {
  ShardInfo info;
  fs::path path;
  std::unique_ptr<MappedFile> map;
  const uint8_t* tokens = nullptr;
  const uint8_t* offsets = nullptr;  // sequences + 1 little-endian uint64

  // Record ids, read on first use: concatenated, with the end of each.
  mutable std::once_flag ids_once;
  mutable std::string ids;
  mutable std::vector<uint64_t> id_ends;

  uint64_t offset(int64_t i) const { return load_u64(offsets + 8 * i); }

  [[noreturn]] void corrupt(const std::string& what, const std::string& hint = kRebuildHint) const {
    throw core::InputError("corrupt shard: " + what, path.string(), hint);
  }
};

Dataset::Dataset(fs::path dir) : dir_(std::move(dir)) {}
Dataset::~Dataset() = default;

std::shared_ptr<const Dataset> Dataset::open(const fs::path& dir, Verify verify) {
  if (!fs::is_directory(dir))
    throw core::InputError("dataset directory not found", dir.string(),
                           "set data.dataset to a directory written by `ankh preprocess`");
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
  if (!little_endian_host())
    throw core::InputError("shards are little-endian and this host is not", where);

  for (const ShardInfo& info : m.shards) {
    auto shard = std::make_unique<Shard>();
    shard->info = info;
    shard->path = dir / info.file;
    ds->open_shard(*shard);
    const int k = index(info.split);
    ds->starts_[k].push_back(ds->totals_[k].sequences);
    ds->totals_[k].sequences += info.sequences;
    ds->totals_[k].residues += info.residues;
    ++ds->totals_[k].shards;
    ds->shards_[k].push_back(std::move(shard));
  }
  if (verify == Verify::Full) ds->verify_tokens();
  return ds;
}

void Dataset::open_shard(Shard& shard) {
  const ShardInfo& info = shard.info;
  if (!fs::exists(shard.path))
    throw core::InputError("missing shard " + info.file + " listed in the manifest", shard.path.string(), kRebuildHint);

  haddr_t tokens_at = HADDR_UNDEF, offsets_at = HADDR_UNDEF;
  {
    std::lock_guard<std::recursive_mutex> guard(h5::lock());
    h5::quiet_errors();
    h5::Handle file = h5::file(H5Fopen(shard.path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    if (!file.valid()) shard.corrupt("not a readable HDF5 file (" + h5::last_error() + ")");

    int64_t version = 0;
    std::string text;
    if (!h5::read_attribute(file, "format_version", version) || version != shard::kFormatVersion)
      shard.corrupt("format_version attribute missing or not " + std::to_string(shard::kFormatVersion));
    if (!h5::read_attribute(file, "vocabulary", text) || text != kVocabularyName)
      shard.corrupt("vocabulary attribute is '" + text + "', expected '" + kVocabularyName + "'");
    if (!h5::read_attribute(file, "split", text) || text != name_of(info.split))
      shard.corrupt("split attribute is '" + text + "', the manifest says '" + name_of(info.split) + "'");

    // Opens a 1-D dataset and checks its length and element type; returns its file address
    // when it has to be contiguous (mappable).
    auto check = [&](const char* name, int64_t expected, hid_t expected_type, bool mappable) -> haddr_t {
      if (H5Lexists(file, name, H5P_DEFAULT) <= 0) shard.corrupt(std::string("no /") + name + " dataset");
      h5::Handle set = h5::dataset(H5Dopen2(file, name, H5P_DEFAULT));
      if (!set.valid()) shard.corrupt(std::string("cannot open /") + name + " (" + h5::last_error() + ")");
      h5::Handle space = h5::space(H5Dget_space(set));
      hsize_t dims[1] = {0};
      if (H5Sget_simple_extent_ndims(space) != 1 || H5Sget_simple_extent_dims(space, dims, nullptr) != 1)
        shard.corrupt(std::string("/") + name + " is not one-dimensional");
      if (static_cast<int64_t>(dims[0]) != expected)
        shard.corrupt(std::string("/") + name + " has " + std::to_string(dims[0]) + " elements, the manifest implies " +
                      std::to_string(expected));
      h5::Handle type = h5::type(H5Dget_type(set));
      if (expected_type >= 0 && H5Tequal(type, expected_type) <= 0)
        shard.corrupt(std::string("/") + name + " has an unexpected element type");
      if (expected_type < 0 && H5Tget_class(type) != H5T_STRING)
        shard.corrupt(std::string("/") + name + " does not hold strings");
      if (!mappable) return HADDR_UNDEF;
      h5::Handle dcpl = h5::plist(H5Dget_create_plist(set));
      if (H5Pget_layout(dcpl) != H5D_CONTIGUOUS)
        shard.corrupt(std::string("/") + name + " is not stored contiguously, so it cannot be memory-mapped",
                      "write shards with `ankh preprocess` (chunked or compressed /tokens are not supported)");
      const haddr_t at = H5Dget_offset(set);
      if (at == HADDR_UNDEF) shard.corrupt(std::string("/") + name + " has no data");
      return at;
    };
    tokens_at = check(shard::kTokens, info.residues, H5T_STD_U8LE, true);
    offsets_at = check(shard::kOffsets, info.sequences + 1, H5T_STD_U64LE, true);
    check(shard::kIds, info.sequences, -1, false);
  }

  shard.map = std::make_unique<MappedFile>(shard.path);
  const uint64_t file_size = shard.map->size();
  if (tokens_at + static_cast<uint64_t>(info.residues) > file_size ||
      offsets_at + 8 * static_cast<uint64_t>(info.sequences + 1) > file_size)
    shard.corrupt("truncated: the data lies beyond the end of the file");
  shard.tokens = shard.map->data() + tokens_at;
  shard.offsets = shard.map->data() + offsets_at;

  // The offsets define every sequence: check them whole (8 bytes per sequence, cheap).
  const uint32_t crc = shard::crc32(0, shard.offsets, 8 * static_cast<uint64_t>(info.sequences + 1));
  if (crc != info.offsets_crc32)
    shard.corrupt("/offsets checksum " + std::to_string(crc) + " differs from the manifest's " +
                  std::to_string(info.offsets_crc32));
  if (shard.offset(0) != 0 || shard.offset(info.sequences) != static_cast<uint64_t>(info.residues))
    shard.corrupt("/offsets does not span /tokens");
  for (int64_t i = 0; i < info.sequences; ++i)
    if (shard.offset(i + 1) <= shard.offset(i)) shard.corrupt("/offsets is not strictly increasing at " + std::to_string(i));
}

void Dataset::verify_tokens() const {
  for (const auto& list : shards_) {
    for (const auto& shard : list) {
      const uint32_t crc = shard::crc32(0, shard->tokens, static_cast<uint64_t>(shard->info.residues));
      if (crc != shard->info.tokens_crc32)
        shard->corrupt("/tokens checksum " + std::to_string(crc) + " differs from the manifest's " +
                       std::to_string(shard->info.tokens_crc32));
      for (int64_t i = 0; i < shard->info.residues; ++i) {
        const uint8_t t = shard->tokens[i];
        if (!is_residue(t) && t != kUnk)
          shard->corrupt("/tokens[" + std::to_string(i) + "] = " + std::to_string(t) + " is not a residue id");
      }
    }
  }
}

const Dataset::Shard& Dataset::locate(Split split, int64_t i, int64_t& local) const {
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
  const Shard& s = locate(split, i, local);
  return static_cast<int64_t>(s.offset(local + 1) - s.offset(local));
}

TokenView Dataset::tokens(Split split, int64_t i) const {
  int64_t local = 0;
  const Shard& s = locate(split, i, local);
  const uint64_t begin = s.offset(local);
  return TokenView(s.tokens + begin, static_cast<int64_t>(s.offset(local + 1) - begin));
}

std::string Dataset::id(Split split, int64_t i) const {
  int64_t local = 0;
  const Shard& s = locate(split, i, local);
  std::call_once(s.ids_once, [&s] { read_ids(s); });
  const uint64_t begin = local == 0 ? 0 : s.id_ends[static_cast<std::size_t>(local - 1)];
  return s.ids.substr(begin, s.id_ends[static_cast<std::size_t>(local)] - begin);
}

void Dataset::read_ids(const Shard& s) {
  std::lock_guard<std::recursive_mutex> guard(h5::lock());
  h5::quiet_errors();
  h5::Handle file = h5::file(H5Fopen(s.path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  h5::Handle set = h5::dataset(file.valid() ? H5Dopen2(file, shard::kIds, H5P_DEFAULT) : H5I_INVALID_HID);
  h5::Handle type = h5::type(set.valid() ? H5Dget_type(set) : H5I_INVALID_HID);
  if (!type.valid()) s.corrupt("cannot read /ids (" + h5::last_error() + ")");
  const auto n = static_cast<std::size_t>(s.info.sequences);
  s.id_ends.reserve(n);
  if (H5Tis_variable_str(type) > 0) {  // what ankh writes
    h5::Handle mem = h5::type(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem, H5T_VARIABLE);
    std::vector<char*> ptrs(n, nullptr);
    if (H5Dread(set, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
      s.corrupt("cannot read /ids (" + h5::last_error() + ")");
    for (char* p : ptrs) {
      if (p) s.ids.append(p);
      s.id_ends.push_back(s.ids.size());
    }
    h5::Handle space = h5::space(H5Dget_space(set));
    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, ptrs.data());
  } else {  // fixed-length strings, NUL-padded
    const std::size_t width = H5Tget_size(type);
    std::vector<char> buf(width * n, '\0');
    if (H5Dread(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
      s.corrupt("cannot read /ids (" + h5::last_error() + ")");
    for (std::size_t i = 0; i < n; ++i) {
      const char* p = buf.data() + width * i;
      s.ids.append(p, strnlen(p, width));
      s.id_ends.push_back(s.ids.size());
    }
  }
}

std::string read_shard_id(const fs::path& shard_file, int64_t index) {
  std::lock_guard<std::recursive_mutex> guard(h5::lock());
  h5::quiet_errors();
  h5::Handle file = h5::file(H5Fopen(shard_file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  h5::Handle set = h5::dataset(file.valid() ? H5Dopen2(file, shard::kIds, H5P_DEFAULT) : H5I_INVALID_HID);
  h5::Handle type = h5::type(set.valid() ? H5Dget_type(set) : H5I_INVALID_HID);
  h5::Handle space = h5::space(set.valid() ? H5Dget_space(set) : H5I_INVALID_HID);
  const hsize_t start[1] = {static_cast<hsize_t>(index)}, count[1] = {1};
  if (!space.valid() || H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr) < 0)
    throw core::InputError("cannot read /ids[" + std::to_string(index) + "] (" + h5::last_error() + ")", shard_file.string());
  h5::Handle one = h5::space(H5Screate_simple(1, count, nullptr));
  if (H5Tis_variable_str(type) > 0) {
    h5::Handle mem = h5::type(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem, H5T_VARIABLE);
    char* p = nullptr;
    if (H5Dread(set, mem, one, space, H5P_DEFAULT, &p) < 0)
      throw core::InputError("cannot read /ids (" + h5::last_error() + ")", shard_file.string());
    std::string id = p ? p : "";
    H5Dvlen_reclaim(mem, one, H5P_DEFAULT, &p);
    return id;
  }
  std::vector<char> buf(H5Tget_size(type) + 1, '\0');
  if (H5Dread(set, type, one, space, H5P_DEFAULT, buf.data()) < 0)
    throw core::InputError("cannot read /ids (" + h5::last_error() + ")", shard_file.string());
  return std::string(buf.data());
}

}  // namespace ankh::data
