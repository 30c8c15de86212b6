#include "trainer/weights/embeddings_file.h"

#include <hdf5.h>

#include <mutex>

#include "core/error.h"
#include "data/hdf5_util.h"

namespace ankh::weights {

namespace h5 = data::h5;
namespace fs = std::filesystem;

struct EmbeddingsWriter::State {
  fs::path path;
  std::string where;  // the output's final name, for messages
  EmbeddingsLayout layout;
  std::vector<int64_t> offsets;
  h5::Handle file, mean, residues;

  [[noreturn]] void fail(const std::string& what) const {
    throw core::IoError("cannot write embeddings: " + what + " (" + h5::last_error() + ")", where,
                        "check free disk space and permissions of the output directory");
  }

  h5::Handle create(const char* name, hid_t type, std::vector<hsize_t> dims) {
    h5::Handle space = h5::space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
    // Every element gets written: no fill pass over what may be hundreds of gigabytes (HDF5
    // refuses that setting for variable-length types, which need their fill value).
    h5::Handle dcpl = h5::plist(H5Pcreate(H5P_DATASET_CREATE));
    if (H5Tis_variable_str(type) <= 0) H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
    h5::Handle set = h5::dataset(H5Dcreate2(file, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    if (!set.valid()) fail(std::string("cannot create /") + name);
    return set;
  }

  void write_int64(const char* name, const std::vector<int64_t>& values) {
    h5::Handle set = create(name, H5T_STD_I64LE, {values.size()});
    if (H5Dwrite(set, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0 || set.close() < 0)
      fail(std::string("/") + name);
  }

  void write_ids() {
    // Variable-length UTF-8: h5py gives str with f["ids"].asstr()[:] (bytes without asstr()).
    h5::Handle type = h5::type(H5Tcopy(H5T_C_S1));
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    std::vector<const char*> pointers;
    for (const auto& id : layout.ids) pointers.push_back(id.c_str());
    h5::Handle set = create("ids", type, {pointers.size()});
    if (H5Dwrite(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) < 0 || set.close() < 0) fail("/ids");
  }

  void text_attribute(const std::string& name, const std::string& value) {
    // Variable-length UTF-8 as well, so that h5py returns str rather than bytes.
    h5::Handle type = h5::type(H5Tcopy(H5T_C_S1));
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    h5::Handle space = h5::space(H5Screate(H5S_SCALAR));
    h5::Handle a = h5::attribute(H5Acreate2(file, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT));
    const char* p = value.c_str();
    if (!a.valid() || H5Awrite(a, type, &p) < 0) fail("attribute " + name);
  }

  void write_rows(hid_t set, int64_t first_row, int64_t rows, const torch::Tensor& values, const char* what) {
    const auto d = static_cast<hsize_t>(layout.d_model);
    const hsize_t start[2] = {static_cast<hsize_t>(first_row), 0}, count[2] = {static_cast<hsize_t>(rows), d};
    h5::Handle file_space = h5::space(H5Dget_space(set));
    const hsize_t flat = static_cast<hsize_t>(rows) * d;
    h5::Handle memory_space = h5::space(H5Screate_simple(1, &flat, nullptr));
    if (H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, nullptr, count, nullptr) < 0 ||
        H5Dwrite(set, H5T_NATIVE_FLOAT, memory_space, file_space, H5P_DEFAULT, values.data_ptr<float>()) < 0)
      fail(std::string(what) + " rows of protein " + std::to_string(first_row));
  }
};

EmbeddingsWriter::EmbeddingsWriter(const fs::path& path, const EmbeddingsLayout& layout, const std::string& where)
    : s_(std::make_unique<State>()) {
  const std::size_t n = layout.ids.size();
  s_->path = path;
  s_->where = where.empty() ? path.string() : where;
  if (n == 0 || layout.lengths.size() != n || layout.fasta_lengths.size() != n || layout.d_model <= 0)
    throw core::Error("inconsistent embeddings layout", s_->where);
  s_->layout = layout;
  s_->offsets.assign(1, 0);
  for (const int64_t l : layout.lengths) s_->offsets.push_back(s_->offsets.back() + l);

  std::lock_guard<std::recursive_mutex> guard(h5::lock());
  h5::quiet_errors();
  s_->file = h5::file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  if (!s_->file.valid()) s_->fail("cannot create the file");
  s_->text_attribute("format", kEmbeddingsFormat);
  h5::write_attribute(s_->file, "format_version", kEmbeddingsFormatVersion);
  h5::write_attribute(s_->file, "d_model", layout.d_model);
  h5::write_attribute(s_->file, "per_residue", static_cast<int64_t>(layout.per_residue));
  for (const auto& [name, value] : layout.text_attributes) s_->text_attribute(name, value);
  for (const auto& [name, value] : layout.integer_attributes) h5::write_attribute(s_->file, name.c_str(), value);
  s_->write_ids();
  s_->write_int64("lengths", layout.lengths);
  s_->write_int64("fasta_lengths", layout.fasta_lengths);
  const auto d = static_cast<hsize_t>(layout.d_model);
  s_->mean = s_->create("mean", H5T_IEEE_F32LE, {n, d});
  if (layout.per_residue) {
    s_->write_int64("offsets", s_->offsets);
    s_->residues = s_->create("residues", H5T_IEEE_F32LE, {static_cast<hsize_t>(s_->offsets.back()), d});
  }
}

EmbeddingsWriter::~EmbeddingsWriter() {
  if (!s_) return;
  std::lock_guard<std::recursive_mutex> guard(h5::lock());
  s_->residues.reset();
  s_->mean.reset();
  s_->file.reset();
}

void EmbeddingsWriter::write(int64_t index, const torch::Tensor& mean, const torch::Tensor& residues) {
  const auto& layout = s_->layout;
  if (index < 0 || index >= static_cast<int64_t>(layout.ids.size())) throw core::Error("protein index out of range", s_->where);
  // The C API reads raw memory: shapes and dtype are checked here, not trusted.
  auto check = [&](const torch::Tensor& t, int64_t rows, const char* what) {
    if (!t.defined() || t.scalar_type() != torch::kFloat32 || !t.is_contiguous() || !t.device().is_cpu() || t.numel() != rows * layout.d_model)
      throw core::Error(std::string(what) + " of protein " + std::to_string(index) + " is not float32 [" + std::to_string(rows) +
                            ", " + std::to_string(layout.d_model) + "] on the CPU",
                        s_->where);
  };
  check(mean, 1, "mean");
  const int64_t length = layout.lengths[static_cast<std::size_t>(index)];
  if (layout.per_residue) check(residues, length, "residues");
  std::lock_guard<std::recursive_mutex> guard(h5::lock());
  s_->write_rows(s_->mean, index, 1, mean, "/mean");
  if (layout.per_residue) s_->write_rows(s_->residues, s_->offsets[static_cast<std::size_t>(index)], length, residues, "/residues");
}

void EmbeddingsWriter::close() {
  std::lock_guard<std::recursive_mutex> guard(h5::lock());
  if ((s_->residues.valid() && s_->residues.close() < 0) || s_->mean.close() < 0 || s_->file.close() < 0) s_->fail("closing the file");
}

}  // namespace ankh::weights
