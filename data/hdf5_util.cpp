#include "data/hdf5_util.h"

#include <vector>

#include "core/error.h"

namespace ankh::data::h5 {

namespace {
// A failed H5Fclose (a full disk: the flush at close fails) leaves the file half-closed in HDF5
// 1.10, and the library's atexit clean-up then closes it again and crashes (SIGSEGV in
// H5F__close_cb) after ankh has reported the error. Every file ankh writes is closed explicitly
// and checked, so that clean-up has nothing to do for us: it is not installed. Must run before
// any other HDF5 call, hence at static initialisation (tests/train/out_of_space.sh).
const bool kNoAtexitCleanup = [] { return H5dont_atexit() >= 0; }();
}  // namespace

std::recursive_mutex& lock() {
  static std::recursive_mutex m;
  return m;
}

void quiet_errors() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

std::string last_error() {
  std::string text;
  // Walking upward starts at the innermost (most specific) entry: keep only that one.
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* e, void* out) -> herr_t {
        auto* s = static_cast<std::string*>(out);
        if (n == 0 && e->desc) *s = e->desc;
        return 0;
      },
      &text);
  return text;
}

herr_t Handle::close() {
  herr_t rc = 0;
  if (id_ >= 0 && close_) rc = close_(id_);
  id_ = H5I_INVALID_HID;
  return rc;
}

void Handle::reset() {
  if (id_ >= 0 && close_) close_(id_);
  id_ = H5I_INVALID_HID;
}

void write_attribute(hid_t object, const char* name, const std::string& value) {
  Handle t = type(H5Tcopy(H5T_C_S1));
  H5Tset_size(t, value.empty() ? 1 : value.size());
  H5Tset_strpad(t, H5T_STR_NULLPAD);
  Handle s = space(H5Screate(H5S_SCALAR));
  Handle a = attribute(H5Acreate2(object, name, t, s, H5P_DEFAULT, H5P_DEFAULT));
  std::string padded = value.empty() ? std::string(1, '\0') : value;
  if (!a.valid() || H5Awrite(a, t, padded.data()) < 0) throw core::IoError("cannot write HDF5 attribute '" + std::string(name) + "': " + last_error());
}

void write_attribute(hid_t object, const char* name, int64_t value) {
  Handle s = space(H5Screate(H5S_SCALAR));
  Handle a = attribute(H5Acreate2(object, name, H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid() || H5Awrite(a, H5T_NATIVE_INT64, &value) < 0)
    throw core::IoError("cannot write HDF5 attribute '" + std::string(name) + "': " + last_error());
}

bool read_attribute(hid_t object, const char* name, std::string& value) {
  if (H5Aexists(object, name) <= 0) return false;
  Handle a = attribute(H5Aopen(object, name, H5P_DEFAULT));
  if (!a.valid()) return false;
  Handle t = type(H5Aget_type(a));
  if (H5Tget_class(t) != H5T_STRING || H5Tis_variable_str(t) > 0) return false;
  const size_t size = H5Tget_size(t);
  std::vector<char> buf(size + 1, '\0');
  if (H5Aread(a, t, buf.data()) < 0) return false;
  value.assign(buf.data());  // stops at the first NUL (padding)
  return true;
}

bool read_attribute(hid_t object, const char* name, int64_t& value) {
  if (H5Aexists(object, name) <= 0) return false;
  Handle a = attribute(H5Aopen(object, name, H5P_DEFAULT));
  if (!a.valid()) return false;
  Handle t = type(H5Aget_type(a));
  if (H5Tget_class(t) != H5T_INTEGER) return false;
  return H5Aread(a, H5T_NATIVE_INT64, &value) >= 0;
}

}  // namespace ankh::data::h5
