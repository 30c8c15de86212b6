#include "data/mapped_shard.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
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

}  // namespace

MappedShard::MappedShard(fs::path path, const ShardInfo& info) : path_(std::move(path)), info_(info) {
  check_structure();
}

MappedShard::~MappedShard() = default;

void MappedShard::corrupt(const std::string& what) const {
  throw core::InputError("corrupt shard: " + what, path_.string(),
                         "the dataset is damaged or was changed after `ankh preprocess`: `ankh verify " +
                             path_.parent_path().string() + "` lists every problem; re-run `ankh preprocess` to rebuild it");
}

uint64_t MappedShard::offset(int64_t i) const { return load_u64(offsets_ + 8 * i); }

void MappedShard::check_structure() {
  const ShardInfo& info = info_;
  if (!fs::exists(path_)) corrupt("missing shard " + info.file + " listed in the manifest");
  std::error_code ec;
  const uint64_t bytes = fs::file_size(path_, ec);
  if (ec) corrupt("cannot read its size (" + ec.message() + ")");
  // Older manifests record no size (0).
  if (info.file_bytes != 0 && bytes != info.file_bytes)
    corrupt("the file has " + std::to_string(bytes) + " bytes, the manifest records " + std::to_string(info.file_bytes));

  haddr_t tokens_at = HADDR_UNDEF, offsets_at = HADDR_UNDEF;
  {
    std::lock_guard<std::recursive_mutex> guard(h5::lock());
    h5::quiet_errors();
    h5::Handle file = h5::file(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    if (!file.valid()) corrupt("not a readable HDF5 file (" + h5::last_error() + ")");

    int64_t version = 0;
    std::string text;
    if (!h5::read_attribute(file, "format_version", version) || version != shard::kFormatVersion)
      corrupt("format_version attribute missing or not " + std::to_string(shard::kFormatVersion));
    if (!h5::read_attribute(file, "vocabulary", text) || text != kVocabularyName)
      corrupt("vocabulary attribute is '" + text + "', expected '" + kVocabularyName + "'");
    if (!h5::read_attribute(file, "split", text) || text != name_of(info.split))
      corrupt("split attribute is '" + text + "', the manifest says '" + name_of(info.split) + "'");

    // Opens a 1-D dataset and checks its length and element type; returns its file address
    // when it has to be contiguous (mappable).
    auto check = [&](const char* name, int64_t expected, hid_t expected_type, bool mappable) -> haddr_t {
      if (H5Lexists(file, name, H5P_DEFAULT) <= 0) corrupt(std::string("no /") + name + " dataset");
      h5::Handle set = h5::dataset(H5Dopen2(file, name, H5P_DEFAULT));
      if (!set.valid()) corrupt(std::string("cannot open /") + name + " (" + h5::last_error() + ")");
      h5::Handle space = h5::space(H5Dget_space(set));
      hsize_t dims[1] = {0};
      if (H5Sget_simple_extent_ndims(space) != 1 || H5Sget_simple_extent_dims(space, dims, nullptr) != 1)
        corrupt(std::string("/") + name + " is not one-dimensional");
      if (static_cast<int64_t>(dims[0]) != expected)
        corrupt(std::string("/") + name + " has " + std::to_string(dims[0]) + " elements, the manifest implies " +
                std::to_string(expected));
      h5::Handle type = h5::type(H5Dget_type(set));
      if (expected_type >= 0 && H5Tequal(type, expected_type) <= 0)
        corrupt(std::string("/") + name + " has an unexpected element type");
      if (expected_type < 0 && H5Tget_class(type) != H5T_STRING) corrupt(std::string("/") + name + " does not hold strings");
      if (!mappable) return HADDR_UNDEF;
      h5::Handle dcpl = h5::plist(H5Dget_create_plist(set));
      if (H5Pget_layout(dcpl) != H5D_CONTIGUOUS)
        corrupt(std::string("/") + name +
                " is not stored contiguously, so it cannot be memory-mapped (chunked or compressed /tokens are not "
                "supported; write shards with `ankh preprocess`)");
      const haddr_t at = H5Dget_offset(set);
      if (at == HADDR_UNDEF) corrupt(std::string("/") + name + " has no data");
      return at;
    };
    tokens_at = check(shard::kTokens, info.residues, H5T_STD_U8LE, true);
    offsets_at = check(shard::kOffsets, info.sequences + 1, H5T_STD_U64LE, true);
    check(shard::kIds, info.sequences, -1, false);
  }

  map_ = std::make_unique<MappedFile>(path_);
  const uint64_t file_size = map_->size();
  if (tokens_at > file_size || static_cast<uint64_t>(info.residues) > file_size - tokens_at || offsets_at > file_size ||
      8 * static_cast<uint64_t>(info.sequences + 1) > file_size - offsets_at)
    corrupt("truncated: the data lies beyond the end of the file");
  tokens_ = map_->data() + tokens_at;
  tokens_at_ = tokens_at;
  offsets_ = map_->data() + offsets_at;
  // Training reads sequences of a few hundred bytes at random: without this, every page fault
  // also reads the ~128 KiB around it (mmap read-around), and a start that samples sequences
  // pulled gigabytes of a large dataset into memory. Scans read the file (tokens_file_offset).
  if (info.residues > 0) map_->advise_random(tokens_, static_cast<std::size_t>(info.residues));
}

void MappedShard::check_offsets() const {
  const uint32_t crc = shard::crc32(0, offsets_, 8 * static_cast<uint64_t>(info_.sequences + 1));
  if (crc != info_.offsets_crc32)
    corrupt("/offsets checksum " + std::to_string(crc) + " differs from the manifest's " + std::to_string(info_.offsets_crc32));
  if (offset(0) != 0 || offset(info_.sequences) != static_cast<uint64_t>(info_.residues))
    corrupt("/offsets does not span /tokens");
  for (int64_t i = 0; i < info_.sequences; ++i)
    if (offset(i + 1) <= offset(i)) corrupt("/offsets is not strictly increasing at " + std::to_string(i));
}

int64_t MappedShard::sequence_at(int64_t position) const {
  int64_t lo = 0, hi = info_.sequences;  // the last i with offset(i) <= position
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (offset(mid) <= static_cast<uint64_t>(position))
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

std::string MappedShard::id(int64_t i) const {
  std::call_once(ids_once_, [this] { read_ids(); });
  const uint64_t begin = i == 0 ? 0 : id_ends_[static_cast<std::size_t>(i - 1)];
  return ids_.substr(begin, id_ends_[static_cast<std::size_t>(i)] - begin);
}

void MappedShard::read_ids() const {
  std::lock_guard<std::recursive_mutex> guard(h5::lock());
  h5::quiet_errors();
  h5::Handle file = h5::file(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  h5::Handle set = h5::dataset(file.valid() ? H5Dopen2(file, shard::kIds, H5P_DEFAULT) : H5I_INVALID_HID);
  h5::Handle type = h5::type(set.valid() ? H5Dget_type(set) : H5I_INVALID_HID);
  if (!type.valid()) corrupt("cannot read /ids (" + h5::last_error() + ")");
  const auto n = static_cast<std::size_t>(info_.sequences);
  id_ends_.reserve(n);
  if (H5Tis_variable_str(type) > 0) {  // what ankh writes for long ids
    h5::Handle mem = h5::type(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem, H5T_VARIABLE);
    std::vector<char*> ptrs(n, nullptr);
    if (H5Dread(set, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0) corrupt("cannot read /ids (" + h5::last_error() + ")");
    for (char* p : ptrs) {
      if (p) ids_.append(p);
      id_ends_.push_back(ids_.size());
    }
    h5::Handle space = h5::space(H5Dget_space(set));
    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, ptrs.data());
  } else {  // fixed-length strings, NUL-padded
    const std::size_t width = H5Tget_size(type);
    std::vector<char> buf(width * n, '\0');
    if (H5Dread(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0) corrupt("cannot read /ids (" + h5::last_error() + ")");
    for (std::size_t i = 0; i < n; ++i) {
      const char* p = buf.data() + width * i;
      ids_.append(p, strnlen(p, width));
      id_ends_.push_back(ids_.size());
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
