// Thin RAII and error handling over the HDF5 C API (version 1.10), shared by the shard writer and
// the dataset reader. HDF5 prints its own error stack to stderr by default; we silence that and
// turn every failed call into an ankh error that names the file and quotes HDF5's innermost
// message instead.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <mutex>
#include <string>

namespace ankh::data::h5 {

// HDF5 builds are not always thread-safe (H5_HAVE_THREADSAFE is a build option): every call
// from ankh goes through this lock, so shard writers on several threads stay correct anywhere.
std::recursive_mutex& lock();

// Silences HDF5's automatic error printing (idempotent; called by every helper below).
void quiet_errors();

// The innermost message of the current HDF5 error stack ("" when there is none).
std::string last_error();

// An owned hid_t, closed with the right H5*close function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      close_ = o.close_;
      o.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }  // NOLINT: passes straight into the C API
  bool valid() const { return id_ >= 0; }
  // Closes now and reports failure (a close can be where buffered data hits the disk).
  herr_t close();
  void reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

inline Handle file(hid_t id) { return Handle(id, H5Fclose); }
inline Handle dataset(hid_t id) { return Handle(id, H5Dclose); }
inline Handle space(hid_t id) { return Handle(id, H5Sclose); }
inline Handle type(hid_t id) { return Handle(id, H5Tclose); }
inline Handle plist(hid_t id) { return Handle(id, H5Pclose); }
inline Handle attribute(hid_t id) { return Handle(id, H5Aclose); }

// Writes a scalar attribute on `object` (a file or dataset).
void write_attribute(hid_t object, const char* name, const std::string& value);
void write_attribute(hid_t object, const char* name, int64_t value);
// Reads a scalar attribute; std::nullopt-like: returns false when the attribute is missing or of
// another kind.
bool read_attribute(hid_t object, const char* name, std::string& value);
bool read_attribute(hid_t object, const char* name, int64_t& value);

}  // namespace ankh::data::h5
