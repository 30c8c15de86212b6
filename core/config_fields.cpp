#include "core/config_fields.h"

#include "core/strings.h"

namespace ankh::core {

bool Bounds::contains(double v) const {
  if (lo && (lo_open ? !(v > *lo) : !(v >= *lo))) return false;
  if (hi && (hi_open ? !(v < *hi) : !(v <= *hi))) return false;
  return true;
}

std::string Bounds::describe() const {
  auto num = [](double v) {
    std::string s = format_double(v);
    if (ends_with(s, ".0")) s.resize(s.size() - 2);
    return s;
  };
  std::string out = lo ? (lo_open ? "(" : "[") + num(*lo) : "(-inf";
  out += ", ";
  out += hi ? num(*hi) + (hi_open ? ")" : "]") : "inf)";
  return out;
}

const char* type_name(ValueType t) {
  switch (t) {
    case ValueType::Int: return "integer";
    case ValueType::Float: return "number";
    case ValueType::Bool: return "boolean";
    case ValueType::String: return "string";
    case ValueType::Choice: return "choice";
    case ValueType::Numbers: return "number or list of numbers";
    case ValueType::List: return "list of maps";
  }
  return "?";
}

namespace {

// The keys of a list's elements ("objective.mixture[].kind") are in `fields` for
// `ankh config --help-keys` only: no setting has such a key (a list is given whole), so they are
// neither found nor offered as suggestions.
bool is_element_key(const std::string& key) { return key.find("[].") != std::string::npos; }

}  // namespace

const FieldSpec* Schema::find(const std::string& key) const {
  for (const auto& f : fields)
    if (f.key == key && !is_element_key(f.key)) return &f;
  return nullptr;
}

std::vector<std::string> Schema::keys() const {
  std::vector<std::string> out;
  out.reserve(fields.size());
  for (const auto& f : fields)
    if (!is_element_key(f.key)) out.push_back(f.key);
  return out;
}

bool Schema::is_section(const std::string& name) const {
  for (const auto& s : sections)
    if (s.name == name) return true;
  return false;
}

}  // namespace ankh::core
