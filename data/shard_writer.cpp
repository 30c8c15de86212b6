#include "data/shard_writer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "core/error.h"
#include "core/file_descriptor.h"
#include "core/files.h"
#include "data/hdf5_util.h"
#include "data/shard_format.h"
#include "data/vocab.h"

namespace ankh::data {

namespace fs = std::filesystem;

namespace {
void advise_huge_pages(const void* data, std::size_t size);
// Ids up to this long are stored as fixed-length strings (see write_shard).
constexpr std::size_t kMaxFixedIdLength = 64;
}  // namespace

ShardBuffer::ShardBuffer(Split split, uint64_t reserve_residues) : split_(split) {
  // Reserving the whole shard up front avoids the copies of repeated growth in the hot loop.
  if (reserve_residues > 0) {
    tokens_.reserve(reserve_residues);
    advise_huge_pages(tokens_.data(), tokens_.capacity());
  }
}

void ShardBuffer::add(std::string_view id, uint64_t id_hash, const uint8_t* tokens, std::size_t length) {
  tokens_.insert(tokens_.end(), tokens, tokens + length);
  offsets_.push_back(tokens_.size());
  id_bytes_.append(id);
  id_ends_.push_back(id_bytes_.size());
  id_bytes_.push_back('\0');
  id_hashes_.push_back(id_hash);
}

std::string_view ShardBuffer::id(int64_t i) const {
  const uint64_t begin = id_begin(i);
  return std::string_view(id_bytes_).substr(begin, id_ends_[static_cast<std::size_t>(i)] - begin);
}

namespace {

// A contiguous 1-D dataset, allocated at creation so that H5Dget_offset is defined as soon as
// the data is written (the reader memory-maps /tokens and /offsets at that address).
h5::Handle create_1d(hid_t file, const char* name, hid_t file_type, uint64_t n) {
  const hsize_t dims[1] = {n};
  h5::Handle space = h5::space(H5Screate_simple(1, dims, nullptr));
  h5::Handle dcpl = h5::plist(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_layout(dcpl, H5D_CONTIGUOUS);
  H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
  return h5::dataset(H5Dcreate2(file, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
}

// Shard buffers are large and filled once: huge pages cut their first-touch page faults 512-fold
// (a hint; ignored where transparent huge pages are off).
void advise_huge_pages(const void* data, std::size_t size) {
#ifdef MADV_HUGEPAGE
  constexpr uintptr_t kHuge = 2u << 20;
  const auto begin = (reinterpret_cast<uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const auto end = (reinterpret_cast<uintptr_t>(data) + size) & ~(kHuge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)data;
  (void)size;
#endif
}

// Starts writing the file's dirty pages to disk without waiting, so that the fsync at install
// time finds little left to do while parsing went on meanwhile.
void start_writeback(const fs::path& path) {
#ifdef __linux__
  const core::FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.valid()) ::sync_file_range(fd.get(), 0, 0, SYNC_FILE_RANGE_WRITE);  // a hint: failures do not matter
#else
  (void)path;
#endif
}

}  // namespace

void ShardBuffer::clear(Split split) {
  split_ = split;
  tokens_.clear();
  offsets_.assign(1, 0);
  id_bytes_.clear();
  id_ends_.clear();
  id_hashes_.clear();
}

namespace {

// The manifest's entry for a shard: counts and the checksums of its token and offset bytes.
ShardInfo describe_shard(int64_t number, const ShardBuffer& shard) {
  ShardInfo info;
  info.file = shard::file_name(shard.split(), number);
  info.split = shard.split();
  info.number = number;
  info.sequences = shard.sequences();
  info.residues = shard.residues();
  info.tokens_crc32 = shard::crc32(0, shard.tokens().data(), shard.tokens().size());
  Composition composition;
  count_tokens(shard.tokens().data(), shard.residues(), composition);  // the FASTA reader stores only valid ids
  info.composition = composition;
  // The offsets are written little-endian; the manifest checksum is of those bytes.
  static_assert(sizeof(uint64_t) == 8);
  info.offsets_crc32 = shard::crc32(0, shard.offsets().data(), 8 * shard.offsets().size());
  return info;
}

// /ids: fixed-length NUL-padded strings when they are all short (UniProt accessions, UniRef ids),
// otherwise variable-length ones, which do not pad every id to the longest (FASTA headers without
// a space can be thousands of characters). h5py reads both as bytes. Returns the dataset (invalid
// when it could not be written).
h5::Handle write_ids(const h5::Handle& file, const ShardBuffer& shard) {
  std::size_t longest = 1;
  for (int64_t i = 0; i < shard.sequences(); ++i) longest = std::max(longest, shard.id(i).size());
  h5::Handle id_type = h5::type(H5Tcopy(H5T_C_S1));
  const auto n = static_cast<std::size_t>(shard.sequences());
  h5::Handle id_set;
  herr_t written = -1;
  if (longest <= kMaxFixedIdLength) {
    H5Tset_size(id_type, longest);
    H5Tset_strpad(id_type, H5T_STR_NULLPAD);
    std::vector<char> ids(longest * n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
      const std::string_view id = shard.id(static_cast<int64_t>(i));
      std::memcpy(ids.data() + longest * i, id.data(), id.size());
    }
    id_set = create_1d(file, shard::kIds, id_type, n);
    if (id_set.valid()) written = H5Dwrite(id_set, id_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ids.data());
  } else {
    H5Tset_size(id_type, H5T_VARIABLE);
    std::vector<const char*> ids(n);
    for (std::size_t i = 0; i < n; ++i) ids[i] = shard.id_c_str(static_cast<int64_t>(i));
    id_set = create_1d(file, shard::kIds, id_type, n);
    if (id_set.valid()) written = H5Dwrite(id_set, id_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ids.data());
  }
  return written < 0 ? h5::Handle() : std::move(id_set);
}

// The HDF5 file at `path`: attributes, /tokens, /offsets, /ids. IoError naming `where` (the
// shard's final name) on failure.
void write_hdf5(const fs::path& path, const std::string& where, const ShardBuffer& shard) {
  auto fail = [&](const std::string& what) {
    throw core::IoError("cannot write shard: " + what + " (" + h5::last_error() + ")", where,
                        "check free disk space and permissions of the output directory");
  };
  std::lock_guard<std::recursive_mutex> guard(h5::lock());
  h5::quiet_errors();
  // Page-aligned datasets: the mapped /tokens and /offsets then start on a page boundary.
  h5::Handle fapl = h5::plist(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_alignment(fapl, 4096, 4096);
  h5::Handle file = h5::file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
  if (!file.valid()) fail("cannot create " + path.string());
  h5::write_attribute(file, "format", std::string(shard::kFormatName));
  h5::write_attribute(file, "format_version", shard::kFormatVersion);
  h5::write_attribute(file, "vocabulary", std::string(kVocabularyName));
  h5::write_attribute(file, "split", std::string(name_of(shard.split())));

  h5::Handle tokens = create_1d(file, shard::kTokens, H5T_STD_U8LE, shard.tokens().size());
  if (!tokens.valid() || H5Dwrite(tokens, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, shard.tokens().data()) < 0)
    fail("/tokens");
  h5::Handle offsets = create_1d(file, shard::kOffsets, H5T_STD_U64LE, shard.offsets().size());
  if (!offsets.valid() || H5Dwrite(offsets, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, shard.offsets().data()) < 0)
    fail("/offsets");
  h5::Handle ids = write_ids(file, shard);
  if (!ids.valid()) fail("/ids");
  if (ids.close() < 0 || offsets.close() < 0 || tokens.close() < 0 || file.close() < 0) fail("closing the file");
}

}  // namespace

ShardInfo write_shard(const fs::path& dir, int64_t number, const ShardBuffer& shard, Durability durability) {
  ShardInfo info = describe_shard(number, shard);
  core::AtomicFile out(dir / info.file);
  write_hdf5(out.temp_path(), out.target().string(), shard);
  std::error_code ec;
  info.file_bytes = fs::file_size(out.temp_path(), ec);
  if (durability == Durability::Now) {
    core::fsync_path(out.temp_path());
    out.commit();
  } else {
    start_writeback(out.temp_path());
    // Complete but not yet durable: the caller fsyncs it (the AtomicFile then finds no temporary).
    fs::rename(out.temp_path(), out.target());
  }
  return info;
}

}  // namespace ankh::data
