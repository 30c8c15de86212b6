#include "data/shard_writer.h"

#include <cstring>

#include "core/error.h"
#include "core/files.h"
#include "data/hdf5_util.h"
#include "data/shard_format.h"
#include "data/vocab.h"

namespace ankh::data {

namespace fs = std::filesystem;

ShardBuffer::ShardBuffer(Split split, uint64_t reserve_residues) : split_(split) {
  // Reserving the whole shard up front avoids the copies of repeated growth in the hot loop.
  if (reserve_residues > 0) tokens_.reserve(reserve_residues);
}

void ShardBuffer::add(std::string_view id, const uint8_t* tokens, std::size_t length) {
  tokens_.insert(tokens_.end(), tokens, tokens + length);
  offsets_.push_back(tokens_.size());
  id_bytes_.append(id);
  id_ends_.push_back(id_bytes_.size());
  max_id_length_ = std::max(max_id_length_, id.size());
}

std::string_view ShardBuffer::id(int64_t i) const {
  const uint64_t begin = i == 0 ? 0 : id_ends_[static_cast<std::size_t>(i - 1)];
  return std::string_view(id_bytes_).substr(begin, id_ends_[static_cast<std::size_t>(i)] - begin);
}

namespace {

// A 1-D dataset; contiguous (mappable) unless `chunk` > 0, in which case it is chunked + deflated.
h5::Handle create_1d(hid_t file, const char* name, hid_t file_type, uint64_t n, uint64_t chunk) {
  const hsize_t dims[1] = {n};
  h5::Handle space = h5::space(H5Screate_simple(1, dims, nullptr));
  h5::Handle dcpl = h5::plist(H5Pcreate(H5P_DATASET_CREATE));
  if (chunk > 0) {
    const hsize_t chunk_dims[1] = {std::max<hsize_t>(1, std::min<hsize_t>(n, chunk))};
    H5Pset_chunk(dcpl, 1, chunk_dims);
    H5Pset_deflate(dcpl, 4);
  } else {
    H5Pset_layout(dcpl, H5D_CONTIGUOUS);
    // Allocated at creation, so that H5Dget_offset is defined as soon as the data is written.
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
  }
  return h5::dataset(H5Dcreate2(file, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
}

}  // namespace

ShardInfo write_shard(const fs::path& dir, int64_t number, const ShardBuffer& shard) {
  ShardInfo info;
  info.file = shard::file_name(shard.split(), number);
  info.split = shard.split();
  info.number = number;
  info.sequences = shard.sequences();
  info.residues = shard.residues();
  info.tokens_crc32 = shard::crc32(0, shard.tokens().data(), shard.tokens().size());
  // The offsets are written little-endian; the manifest checksum is of those bytes.
  static_assert(sizeof(uint64_t) == 8);
  info.offsets_crc32 = shard::crc32(0, shard.offsets().data(), 8 * shard.offsets().size());

  core::AtomicFile out(dir / info.file);
  const std::string where = out.target().string();
  auto fail = [&](const std::string& what) {
    throw core::IoError("cannot write shard: " + what + " (" + h5::last_error() + ")", where,
                        "check free disk space and permissions of the output directory");
  };
  {
    std::lock_guard<std::recursive_mutex> guard(h5::lock());
    h5::quiet_errors();
    // Page-aligned datasets: the mapped /tokens and /offsets then start on a page boundary.
    h5::Handle fapl = h5::plist(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_alignment(fapl, 4096, 4096);
    h5::Handle file = h5::file(H5Fcreate(out.temp_path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
    if (!file.valid()) fail("cannot create " + out.temp_path().string());
    h5::write_attribute(file, "format", std::string(shard::kFormatName));
    h5::write_attribute(file, "format_version", shard::kFormatVersion);
    h5::write_attribute(file, "vocabulary", std::string(kVocabularyName));
    h5::write_attribute(file, "split", std::string(split_name(shard.split())));

    h5::Handle tokens = create_1d(file, shard::kTokens, H5T_STD_U8LE, shard.tokens().size(), 0);
    if (!tokens.valid() || H5Dwrite(tokens, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, shard.tokens().data()) < 0)
      fail("/tokens");
    h5::Handle offsets = create_1d(file, shard::kOffsets, H5T_STD_U64LE, shard.offsets().size(), 0);
    if (!offsets.valid() ||
        H5Dwrite(offsets, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, shard.offsets().data()) < 0)
      fail("/offsets");

    // Ids: fixed-length, NUL-padded strings (h5py reads them as bytes); chunked and deflated,
    // since the padding to the longest id compresses away.
    const std::size_t width = std::max<std::size_t>(1, shard.max_id_length());
    h5::Handle id_type = h5::type(H5Tcopy(H5T_C_S1));
    H5Tset_size(id_type, width);
    H5Tset_strpad(id_type, H5T_STR_NULLPAD);
    std::vector<char> ids(width * static_cast<std::size_t>(shard.sequences()), '\0');
    for (int64_t i = 0; i < shard.sequences(); ++i) {
      const std::string_view id = shard.id(i);
      std::memcpy(ids.data() + width * static_cast<std::size_t>(i), id.data(), id.size());
    }
    h5::Handle id_set = create_1d(file, shard::kIds, id_type, static_cast<uint64_t>(shard.sequences()), 16384);
    if (!id_set.valid() || H5Dwrite(id_set, id_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ids.data()) < 0) fail("/ids");

    if (id_set.close() < 0 || offsets.close() < 0 || tokens.close() < 0 || file.close() < 0) fail("closing the file");
  }
  core::fsync_path(out.temp_path());
  std::error_code ec;
  info.file_bytes = fs::file_size(out.temp_path(), ec);
  out.commit();
  return info;
}

}  // namespace ankh::data
