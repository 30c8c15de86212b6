// A choice a user makes by name (`optim.name: adafactor`, `--dtype bf16`) and the program keeps as
// an enum. Each enum has one Choices table: the names it parses, prints, lists in
// `ankh config --help-keys` and suggests in errors all come from it, so the code past the config
// boundary compares enums, never strings.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config_fields.h"

namespace ankh::core {

template <class E>
class Choices {
 public:
  struct Entry {
    E value;
    const char* name;
  };
  Choices(std::initializer_list<Entry> entries) : entries_(entries) {}

  // The name of `value`; every enumerator has one.
  const char* name(E value) const {
    for (const auto& e : entries_)
      if (e.value == value) return e.name;
    return "?";
  }
  std::optional<E> parse(const std::string& name) const {
    for (const auto& e : entries_)
      if (name == e.name) return e.value;
    return std::nullopt;
  }
  // In declaration order (what --help and errors list).
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.emplace_back(e.name);
    return out;
  }
  // name -> value, for CLI11's CheckedTransformer on command-line options.
  std::map<std::string, E> by_name() const {
    std::map<std::string, E> out;
    for (const auto& e : entries_) out.emplace(e.name, e.value);
    return out;
  }

 private:
  std::vector<Entry> entries_;
};

// Declares the config key `key` for an enum field: read, printed and listed by its names.
template <class E>
void choice(FieldVisitor& v, const char* key, E& value, const Choices<E>& choices, const char* help) {
  std::string text = choices.name(value);
  v.choice(key, text, choices.names(), help);
  if (const auto parsed = choices.parse(text)) value = *parsed;  // the reader only accepts listed names
}

}  // namespace ankh::core
