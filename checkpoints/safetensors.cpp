#include "checkpoints/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "core/file_descriptor.h"
#include "core/strings.h"

namespace ankh::checkpoints {

namespace fs = std::filesystem;
using core::CheckpointError;
using core::IoError;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian, stored as in memory");

namespace {

// The reference implementation refuses headers above 100 MB; so do we (a corrupt length field
// must not make us allocate gigabytes).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// Reads and writes go in pieces of this size: the kernel caps one call near 2 GiB anyway, and a
// piece that fits the cache is hashed while still hot.
constexpr uint64_t kChunkBytes = uint64_t{64} << 20;

struct DtypeName {
  torch::ScalarType type;
  const char* name;
};
constexpr DtypeName kDtypes[] = {
    {torch::kFloat64, "F64"}, {torch::kFloat32, "F32"}, {torch::kFloat16, "F16"}, {torch::kBFloat16, "BF16"},
    {torch::kInt64, "I64"},   {torch::kInt32, "I32"},   {torch::kInt16, "I16"},   {torch::kInt8, "I8"},
    {torch::kUInt8, "U8"},    {torch::kBool, "BOOL"},
};

std::string known_dtypes() {
  std::vector<std::string> names;
  for (const auto& d : kDtypes) names.emplace_back(d.name);
  return core::join(names, ", ");
}

void write_all(int fd, const void* data, uint64_t size, const fs::path& path) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, std::min(size, kChunkBytes));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      throw IoError(std::string("write failed: ") + std::strerror(err), path.string(),
                    err == ENOSPC ? "the disk is full: free space there, or write to another disk" : "");
    }
    p += n;
    size -= static_cast<uint64_t>(n);
  }
}

torch::Tensor cpu_contiguous(const torch::Tensor& t) {
  torch::Tensor out = t.detach();
  if (!out.device().is_cpu()) out = out.to(torch::kCPU);
  return out.contiguous();
}

uint64_t nbytes_of(const torch::Tensor& t) { return static_cast<uint64_t>(t.numel()) * t.element_size(); }

}  // namespace

std::string safetensors_dtype(torch::ScalarType type) {
  for (const auto& d : kDtypes)
    if (d.type == type) return d.name;
  throw CheckpointError(std::string("tensors of type ") + c10::toString(type) + " cannot be stored in safetensors files",
                        "", "supported: " + known_dtypes());
}

std::optional<torch::ScalarType> parse_safetensors_dtype(std::string_view name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return d.type;
  return std::nullopt;
}

NamedTensors snapshot_to_cpu(const NamedTensors& tensors) {
  NamedTensors out;
  for (const auto& [name, t] : tensors) {
    if (!t.defined()) throw CheckpointError("tensor '" + name + "' is undefined", "checkpoint snapshot");
    torch::Tensor d = t.detach();
    // .to(kCPU) of a device tensor is already a fresh copy; a CPU tensor must be cloned.
    out.emplace(name, d.device().is_cpu() ? d.clone(torch::MemoryFormat::Contiguous) : d.to(torch::kCPU).contiguous());
  }
  return out;
}

FileDigest write_safetensors(const fs::path& path, const NamedTensors& tensors, const Metadata& metadata) {
  // Header first: it fixes every offset. Tensors are laid out in name order, without gaps.
  std::vector<torch::Tensor> data;
  data.reserve(tensors.size());
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name.empty() || name == "__metadata__")
      throw CheckpointError("invalid tensor name '" + name + "'", path.string(), "names must be non-empty and not __metadata__");
    if (!tensor.defined()) throw CheckpointError("tensor '" + name + "' is undefined", path.string());
    torch::Tensor t = cpu_contiguous(tensor);
    const uint64_t bytes = nbytes_of(t);
    header[name] = {{"dtype", safetensors_dtype(t.scalar_type())},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    data.push_back(std::move(t));
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  const uint64_t header_len = text.size();

  unsigned char len_bytes[8];
  std::memcpy(len_bytes, &header_len, 8);
  core::AtomicFile file(path);
  AsyncXxh64 hash;  // declared after everything it reads: joined before they go away
  uint64_t written = 0;
  {
    core::FileDescriptor out = core::FileDescriptor::open(file.temp_path(), O_WRONLY | O_CREAT | O_TRUNC);
    auto put = [&](const void* bytes, uint64_t size) {
      write_all(out.get(), bytes, size, path);
      hash.update(bytes, size);  // on the hasher's thread, while the next piece is written
      written += size;
    };
    put(len_bytes, 8);
    put(text.data(), header_len);
    for (const auto& t : data) {
      const auto* p = static_cast<const char*>(t.data_ptr());
      for (uint64_t left = nbytes_of(t); left > 0;) {
        const uint64_t n = std::min(left, kChunkBytes);
        put(p, n);
        p += n;
        left -= n;
      }
    }
    if (::fsync(out.get()) != 0) throw IoError(std::string("fsync failed: ") + std::strerror(errno), path.string());
    out.close(path);
  }
  file.commit();
  return {written, hash.finish()};
}

// ---------------------------------------------------------------------------------------------
// Reading

namespace {

const char* const kTruncatedHint =
    "the file is incomplete (an interrupted copy or write?): copy it again or use another checkpoint";

// One tensor's header entry {"dtype", "shape", "data_offsets"}, checked against itself and the
// size of the data section.
TensorInfo parse_tensor_entry(const std::string& name, const nlohmann::json& entry, uint64_t data_size,
                              const std::string& where) {
  const std::string tensor = "tensor '" + name + "': ";
  auto fail = [&](const std::string& what, const std::string& hint = "") { return CheckpointError(tensor + what, where, hint); };
  if (!entry.is_object()) throw fail("header entry is not an object");
  const auto dtype = entry.find("dtype");
  const auto shape = entry.find("shape");
  const auto offsets = entry.find("data_offsets");
  if (dtype == entry.end() || shape == entry.end() || offsets == entry.end())
    throw fail("header entry lacks dtype, shape or data_offsets");
  if (!dtype->is_string()) throw fail("dtype is not a string");
  TensorInfo info;
  info.dtype_name = dtype->get<std::string>();
  const auto type = parse_safetensors_dtype(info.dtype_name);
  if (!type) throw fail("unknown dtype '" + info.dtype_name + "'", "supported: " + known_dtypes());
  info.dtype = *type;

  if (!shape->is_array()) throw fail("shape is not an array");
  uint64_t expected = c10::elementSize(info.dtype);
  for (const auto& d : *shape) {
    if (!d.is_number_unsigned()) throw fail("shape " + shape->dump() + " has a negative or non-integer size");
    const uint64_t size = d.get<uint64_t>();
    if (size > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(expected, size, &expected))
      throw fail("shape " + shape->dump() + " is too large", "the file is corrupt");
    info.shape.push_back(static_cast<int64_t>(size));
  }
  if (!offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
      !(*offsets)[1].is_number_unsigned())
    throw fail("data_offsets " + offsets->dump() + " is not a pair of non-negative integers");
  info.begin = (*offsets)[0].get<uint64_t>();
  info.end = (*offsets)[1].get<uint64_t>();
  if (info.end < info.begin) throw fail("data_offsets " + offsets->dump() + " end before they begin", "the file is corrupt");
  if (info.bytes() != expected)
    throw fail("data_offsets " + offsets->dump() + " hold " + std::to_string(info.bytes()) + " bytes but shape " +
                   core::shape_text(info.shape) + " of " + info.dtype_name + " needs " + std::to_string(expected),
               "the file is corrupt");
  if (info.end > data_size)
    throw fail("data ends at byte " + std::to_string(info.end) + " of the data section, but the file holds only " +
                   std::to_string(data_size) + " bytes of data (truncated file or offsets out of range)",
               info.begin <= data_size ? kTruncatedHint : "the offsets are out of range: the file is corrupt");
  return info;
}

// The header's tensors and __metadata__.
void parse_header(const std::string& text, uint64_t data_size, const std::string& where,
                  std::map<std::string, TensorInfo>& tensors, Metadata& metadata) {
  const char* not_safetensors = "the file is corrupt or not a safetensors file";
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for a number past a double (1e606)
    throw CheckpointError(std::string("header is not valid JSON: ") + e.what(), where, not_safetensors);
  }
  if (!header.is_object()) throw CheckpointError("header is not a JSON object", where, not_safetensors);
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() != "__metadata__") {
      tensors.emplace(it.key(), parse_tensor_entry(it.key(), it.value(), data_size, where));
      continue;
    }
    if (!it.value().is_object()) throw CheckpointError("__metadata__ is not an object of strings", where);
    for (auto m = it.value().begin(); m != it.value().end(); ++m) {
      if (!m.value().is_string()) throw CheckpointError("__metadata__ value of '" + m.key() + "' is not a string", where);
      metadata[m.key()] = m.value().get<std::string>();
    }
  }
}

// The data section is exactly the tensors, back to back: no overlap, no gap, nothing after.
void check_back_to_back(const std::map<std::string, TensorInfo>& tensors, uint64_t data_size, const std::string& where) {
  std::vector<std::pair<const std::string*, const TensorInfo*>> by_offset;
  for (const auto& [name, info] : tensors) by_offset.emplace_back(&name, &info);
  std::stable_sort(by_offset.begin(), by_offset.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.second->begin, a.second->end) < std::make_pair(b.second->begin, b.second->end);
  });
  uint64_t covered = 0;
  const std::string* previous = nullptr;
  for (const auto& [name, info] : by_offset) {
    if (info->begin < covered)
      throw CheckpointError("tensor '" + *name + "' overlaps tensor '" + *previous + "' (bytes " +
                                std::to_string(info->begin) + ".." + std::to_string(covered) + " of the data section)",
                            where, "the file is corrupt");
    if (info->begin > covered)
      throw CheckpointError("gap of " + std::to_string(info->begin - covered) + " bytes before tensor '" + *name +
                                "' in the data section",
                            where, "the file is corrupt");
    covered = info->end;
    previous = name;
  }
  if (covered != data_size)
    throw CheckpointError(std::to_string(data_size - covered) + " bytes after the last tensor's data", where,
                          "the file is corrupt");
}

}  // namespace

SafetensorsReader::SafetensorsReader(fs::path path) : path_(std::move(path)) {
  const std::string where = path_.string();
  fd_ = core::FileDescriptor(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd_.valid()) {
    const int err = errno;
    throw CheckpointError(std::string("cannot open safetensors file: ") + std::strerror(err), where,
                          err == ENOENT ? "check the path" : "");
  }
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) throw IoError(std::string("cannot stat: ") + std::strerror(errno), where);
  if (!S_ISREG(st.st_mode)) throw CheckpointError("not a regular file", where, "give the path of a .safetensors file");
  file_size_ = static_cast<uint64_t>(st.st_size);
  ::posix_fadvise(fd_.get(), 0, 0, POSIX_FADV_SEQUENTIAL);  // a hint only: ignore failure

  if (file_size_ < 8)
    throw CheckpointError("file is truncated: " + std::to_string(file_size_) +
                              " bytes, but a safetensors file starts with an 8-byte header length",
                          where, kTruncatedHint);
  uint64_t header_len = 0;
  read_exact(&header_len, 8, 0, "header length");
  if (header_len > file_size_ - 8)
    throw CheckpointError("header length " + std::to_string(header_len) + " runs past the end of the file (" +
                              std::to_string(file_size_) + " bytes)",
                          where, header_len > kMaxHeaderBytes ? "this is not a safetensors file" : kTruncatedHint);
  if (header_len > kMaxHeaderBytes)
    throw CheckpointError("header length " + std::to_string(header_len) + " exceeds the 100 MB limit of the format", where,
                          "this is not a safetensors file");
  data_start_ = 8 + header_len;
  prefix_.resize(data_start_);
  std::memcpy(prefix_.data(), &header_len, 8);
  read_exact(prefix_.data() + 8, header_len, 8, "header");

  parse_header(prefix_.substr(8), file_size_ - data_start_, where, tensors_, metadata_);
  check_back_to_back(tensors_, file_size_ - data_start_, where);
}

SafetensorsReader::~SafetensorsReader() = default;

SafetensorsReader::SafetensorsReader(SafetensorsReader&& other) noexcept = default;
SafetensorsReader& SafetensorsReader::operator=(SafetensorsReader&& other) noexcept = default;

std::vector<std::string> SafetensorsReader::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& entry : tensors_) out.push_back(entry.first);
  return out;
}

const TensorInfo& SafetensorsReader::info(const std::string& name) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    const auto near = core::nearest(name, names());
    throw CheckpointError("no tensor '" + name + "' in this file", path_.string(),
                          near ? "did you mean '" + *near + "'?" : std::to_string(tensors_.size()) + " tensors in the file");
  }
  return it->second;
}

void SafetensorsReader::read_exact(void* dst, uint64_t size, uint64_t offset, const std::string& what) const {
  auto* p = static_cast<char*>(dst);
  while (size > 0) {
    const ssize_t n = ::pread(fd_.get(), p, std::min(size, kChunkBytes), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError("cannot read " + what + ": " + std::strerror(errno), path_.string());
    if (n == 0)
      throw CheckpointError("file is truncated: reading " + what + " hit the end of the file", path_.string(),
                            "the file shrank after it was opened: is something else writing it?");
    p += n;
    size -= static_cast<uint64_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

torch::Tensor SafetensorsReader::load(const std::string& name) const {
  const TensorInfo& ti = info(name);
  torch::Tensor t = torch::empty(ti.shape, torch::TensorOptions().dtype(ti.dtype));
  read_exact(t.data_ptr(), ti.bytes(), data_start_ + ti.begin, "tensor '" + name + "'");
  return t;
}

NamedTensors SafetensorsReader::load_all(uint64_t* file_xxh64) const {
  std::vector<const std::pair<const std::string, TensorInfo>*> order;
  for (const auto& entry : tensors_) order.push_back(&entry);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->second.begin < b->second.begin; });
  NamedTensors out;
  std::optional<AsyncXxh64> hash;  // after `out`: joined before the tensors it reads go away
  if (file_xxh64) {
    hash.emplace();
    hash->update(prefix_.data(), prefix_.size());
  }
  for (const auto* entry : order) {
    const TensorInfo& ti = entry->second;
    torch::Tensor& t = out[entry->first] = torch::empty(ti.shape, torch::TensorOptions().dtype(ti.dtype));
    auto* p = static_cast<char*>(t.data_ptr());
    // In pieces: each is hashed (on the hasher's thread) while the next one is read.
    for (uint64_t done = 0; done < ti.bytes();) {
      const uint64_t n = std::min(ti.bytes() - done, kChunkBytes);
      read_exact(p + done, n, data_start_ + ti.begin + done, "tensor '" + entry->first + "'");
      if (hash) hash->update(p + done, n);
      done += n;
    }
  }
  if (hash) *file_xxh64 = hash->finish();
  return out;
}

}  // namespace ankh::checkpoints
