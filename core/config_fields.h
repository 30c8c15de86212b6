// How a config struct declares its keys: once, with type, default, allowed range and help.
//
// Every config struct (data::DataConfig, model::ModelConfig, ...) has
//     void visit(core::FieldVisitor& v);
// that names each field. The default is the member's initialiser; the same visit() serves to
// list the schema (`ankh config --help-keys`), to read a YAML file with validation, and to print
// the resolved config. There is no second list of keys anywhere.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace ankh::core {

// An allowed numeric interval; open ends are exclusive.
struct Bounds {
  std::optional<double> lo, hi;
  bool lo_open = false, hi_open = false;

  static Bounds any() { return {}; }
  static Bounds at_least(double lo) { return {lo, std::nullopt, false, false}; }
  static Bounds above(double lo) { return {lo, std::nullopt, true, false}; }
  static Bounds closed(double lo, double hi) { return {lo, hi, false, false}; }
  static Bounds open(double lo, double hi) { return {lo, hi, true, true}; }
  // [lo, hi)
  static Bounds half_open(double lo, double hi) { return {lo, hi, false, true}; }

  bool contains(double v) const;
  std::string describe() const;  // "[1, inf)", "(0, 1)"
};

enum class ValueType { Int, Float, Bool, String, Choice, Numbers, List };
const char* type_name(ValueType t);

class FieldVisitor;

// A config value that is a list of maps, each with keys of its own (`objective.mixture`): the
// visitors reach its elements through this interface, whatever their C++ type (ListOf<T>).
class ListField {
 public:
  virtual ~ListField() = default;
  virtual std::size_t size() const = 0;
  virtual void resize(std::size_t n) = 0;
  // Declares element i's keys (no section() call): read, printed and checked like a section's.
  virtual void visit_element(std::size_t i, FieldVisitor& v) = 0;
  // Declares the keys of a default element, for the schema (`ankh config --help-keys`).
  virtual void visit_default(FieldVisitor& v) = 0;
};

class FieldVisitor {
 public:
  virtual ~FieldVisitor() = default;
  // Starts a top-level section ("model"); later fields belong to it.
  virtual void section(const char* name, const char* help) = 0;
  virtual void field(const char* key, int64_t& value, Bounds bounds, const char* help) = 0;
  virtual void field(const char* key, double& value, Bounds bounds, const char* help) = 0;
  virtual void field(const char* key, bool& value, const char* help) = 0;
  virtual void field(const char* key, std::string& value, const char* help) = 0;
  // A string restricted to a fixed set of values (an enum in all but type).
  virtual void choice(const char* key, std::string& value, const std::vector<std::string>& choices,
                      const char* help) = 0;
  // A number or a non-empty list of numbers, each within `bounds`: `0.2` or `[0.15, 0.2, 0.3]`.
  // What several values mean is the field's business (drawn per sample, an interval, ...).
  virtual void field(const char* key, std::vector<double>& values, Bounds bounds, const char* help) = 0;
  // A list of maps (`[{kind: ankh, weight: 1}, ...]`; null or [] is empty). Problems inside
  // element i are reported under `key[i].subkey`.
  virtual void list(const char* key, ListField& items, const char* help) = 0;
  // Fields declared after this call and before the next section() are left out of printed
  // configs while `omit` is true (a single objective's keys when objective.mixture replaces
  // them), so that a printed config reads back as the same config. Reading and the schema see
  // them as usual.
  virtual void omit_when_printing(bool omit) {}
};

// ListField over a std::vector<T>, where T declares its keys with `void visit(FieldVisitor&)`.
template <class T>
class ListOf final : public ListField {
 public:
  explicit ListOf(std::vector<T>& items) : items_(items) {}
  std::size_t size() const override { return items_.size(); }
  void resize(std::size_t n) override { items_.resize(n); }
  void visit_element(std::size_t i, FieldVisitor& v) override { items_[i].visit(v); }
  void visit_default(FieldVisitor& v) override {
    T defaults;
    defaults.visit(v);
  }

 private:
  std::vector<T>& items_;
};

// One declared key, as listed by `ankh config --help-keys`.
struct FieldSpec {
  std::string key;  // full dotted path
  ValueType type = ValueType::String;
  std::string default_text;
  Bounds bounds;
  std::vector<std::string> choices;
  std::string help;
};

struct SectionSpec {
  std::string name;
  std::string help;
};

struct Schema {
  std::vector<SectionSpec> sections;
  std::vector<FieldSpec> fields;

  // Settable keys only: the element keys of a list (`objective.mixture[].kind`) are listed in
  // `fields` for --help-keys but neither found nor returned here.
  const FieldSpec* find(const std::string& key) const;
  std::vector<std::string> keys() const;
  bool is_section(const std::string& name) const;
};

}  // namespace ankh::core
