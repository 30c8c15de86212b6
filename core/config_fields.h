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

enum class ValueType { Int, Float, Bool, String, Choice };
const char* type_name(ValueType t);

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

  const FieldSpec* find(const std::string& key) const;
  std::vector<std::string> keys() const;
  bool is_section(const std::string& name) const;
};

}  // namespace ankh::core
