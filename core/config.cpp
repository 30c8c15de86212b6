#include "core/config.h"

#include <yaml-cpp/yaml.h>

#include <optional>
#include <set>
#include <sstream>

#include "core/strings.h"

namespace ankh::core {

namespace {

std::string join_key(const std::string& section, const char* key) {
  return section.empty() ? std::string(key) : section + "." + key;
}

// A number list as written in a config: "0.2" for one value, "[0.15, 0.2, 0.3]" for several.
std::string numbers_text(const std::vector<double>& values) {
  if (values.size() == 1) return format_double(values[0]);
  std::vector<std::string> parts;
  for (double v : values) parts.push_back(format_double(v));
  return "[" + join(parts, ", ") + "]";
}

std::string list_flow_text(ListField& items);

// Each field's value as YAML text, handed to put(); fields declared while omit_when_printing is
// on are skipped. The two printers below differ only in where the text goes.
class ValueWriter : public FieldVisitor {
 public:
  void field(const char* key, int64_t& value, Bounds, const char*) override { emit(key, std::to_string(value)); }
  void field(const char* key, double& value, Bounds, const char*) override { emit(key, format_double(value)); }
  void field(const char* key, bool& value, const char*) override { emit(key, value ? "true" : "false"); }
  void field(const char* key, std::string& value, const char*) override { emit(key, yaml_quote(value)); }
  void choice(const char* key, std::string& value, const std::vector<std::string>&, const char*) override {
    emit(key, yaml_quote(value));
  }
  void field(const char* key, std::vector<double>& values, Bounds, const char*) override {
    emit(key, numbers_text(values));
  }
  void omit_when_printing(bool omit) override { omit_ = omit; }

 protected:
  virtual void put(const char* key, const std::string& text) = 0;
  void emit(const char* key, const std::string& text) {
    if (!omit_) put(key, text);
  }
  bool omit_ = false;
};

// One list element's keys as a flow map: "{kind: ankh, weight: 3.0, mask_prob: [0.15, 0.3], ...}".
class FlowMapWriter final : public ValueWriter {
 public:
  std::string text() const { return "{" + join(items_, ", ") + "}"; }

  void section(const char*, const char*) override {}  // elements have no sections
  void list(const char* key, ListField& items, const char*) override { emit(key, list_flow_text(items)); }

 private:
  void put(const char* key, const std::string& text) override { items_.push_back(std::string(key) + ": " + text); }
  std::vector<std::string> items_;
};

std::string element_flow_text(ListField& items, std::size_t i) {
  FlowMapWriter writer;
  items.visit_element(i, writer);
  return writer.text();
}

// "[]", or "[{...}, {...}]".
std::string list_flow_text(ListField& items) {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < items.size(); ++i) parts.push_back(element_flow_text(items, i));
  return "[" + join(parts, ", ") + "]";
}

class SchemaBuilder final : public FieldVisitor {
 public:
  // `prefix`: the keys of a list's elements are listed as "objective.mixture[].kind".
  explicit SchemaBuilder(std::string prefix = {}) : section_(std::move(prefix)) {}
  Schema schema;

  void section(const char* name, const char* help) override {
    section_ = name;
    schema.sections.push_back({name, help});
  }
  void field(const char* key, int64_t& value, Bounds bounds, const char* help) override {
    add(key, ValueType::Int, std::to_string(value), bounds, {}, help);
  }
  void field(const char* key, double& value, Bounds bounds, const char* help) override {
    add(key, ValueType::Float, format_double(value), bounds, {}, help);
  }
  void field(const char* key, bool& value, const char* help) override {
    add(key, ValueType::Bool, value ? "true" : "false", {}, {}, help);
  }
  void field(const char* key, std::string& value, const char* help) override {
    add(key, ValueType::String, yaml_quote(value), {}, {}, help);
  }
  void choice(const char* key, std::string& value, const std::vector<std::string>& choices,
              const char* help) override {
    add(key, ValueType::Choice, value, {}, choices, help);
  }
  void field(const char* key, std::vector<double>& values, Bounds bounds, const char* help) override {
    add(key, ValueType::Numbers, numbers_text(values), bounds, {}, help);
  }
  // The list itself, then its elements' keys ("objective.mixture[].kind"): listed for
  // `--help-keys`, but Schema::find and keys() leave them out, as no key of that name can be set.
  void list(const char* key, ListField& items, const char* help) override {
    add(key, ValueType::List, list_flow_text(items), {}, {}, help);
    SchemaBuilder element(join_key(section_, key) + "[]");
    items.visit_default(element);
    for (auto& f : element.schema.fields) schema.fields.push_back(std::move(f));
  }

 private:
  void add(const char* key, ValueType type, std::string def, Bounds bounds,
           std::vector<std::string> choices, const char* help) {
    schema.fields.push_back({join_key(section_, key), type, std::move(def), bounds, std::move(choices), help});
  }
  std::string section_;
};

class SettingsReader final : public FieldVisitor {
 public:
  // `element`: the key of the list element being read ("objective.mixture[1]"), under which its
  // keys are found and named, as a section's are; empty for a whole config.
  SettingsReader(const ConfigSource& source, IssueList& issues, std::string element = {})
      : source_(source), issues_(issues), element_(element), section_(std::move(element)) {}

  void section(const char* name, const char*) override {
    section_ = name;
    sections_.insert(name);
  }
  void field(const char* key, int64_t& value, Bounds bounds, const char* help) override {
    const Setting* s = lookup(key);
    if (!s || !scalar(*s, "an integer")) return;
    const auto v = parse_int(s->value);
    if (!v) return bad_type(*s, "an integer");
    if (!bounds.contains(static_cast<double>(*v))) return out_of_range(*s, bounds);
    value = *v;
  }
  void field(const char* key, double& value, Bounds bounds, const char* help) override {
    const Setting* s = lookup(key);
    if (!s || !scalar(*s, "a number")) return;
    const auto v = parse_double(s->value);
    if (!v) return bad_type(*s, "a number");
    if (!bounds.contains(*v)) return out_of_range(*s, bounds);
    value = *v;
  }
  void field(const char* key, bool& value, const char* help) override {
    const Setting* s = lookup(key);
    if (!s || !scalar(*s, "true or false")) return;
    const auto v = parse_bool(s->value);
    if (!v) return bad_type(*s, "true or false");
    value = *v;
  }
  void field(const char* key, std::string& value, const char* help) override {
    const Setting* s = lookup(key);
    if (!s) return;
    if (s->is_null) {  // `init_from:` with nothing after it means "none"
      value.clear();
      return;
    }
    if (!scalar(*s, "a string")) return;
    value = s->value;
  }
  void choice(const char* key, std::string& value, const std::vector<std::string>& choices,
              const char* help) override {
    const Setting* s = lookup(key);
    const std::string expected = "one of " + join(choices, ", ");
    if (!s || !scalar(*s, expected)) return;
    for (const auto& c : choices)
      if (c == s->value) {
        value = c;
        return;
      }
    const auto near = nearest(s->value, choices);
    issues_.add(current_, s->origin, "'" + s->value + "' is not " + expected,
                near ? "did you mean " + *near + "?" : "");
  }
  // `0.2` or `[0.15, 0.2, 0.3]`; each element is checked on its own and named by its index.
  void field(const char* key, std::vector<double>& values, Bounds bounds, const char* help) override {
    const std::string expected = "a number or a non-empty list of numbers";
    const Setting* s = lookup(key);
    if (!s) return;
    if (s->is_null) return issues_.add(current_, s->origin, "no value given; expected " + expected);
    if (s->is_scalar) {
      const auto v = parse_double(s->value);
      if (!v) return bad_type(*s, expected);
      if (!bounds.contains(*v)) return out_of_range(*s, bounds);
      values = {*v};
      return;
    }
    const auto node = parse_value(*s);
    if (!node) return;
    if (!node->IsSequence())
      return issues_.add(current_, s->origin, "expected " + expected + ", got " + (node->IsMap() ? "a map" : "'" + s->value + "'"));
    if (node->size() == 0) return issues_.add(current_, s->origin, "expected " + expected + ", got []");
    std::vector<double> read;
    for (std::size_t i = 0; i < node->size(); ++i) {
      const YAML::Node item = (*node)[i];
      const std::string at = "element " + std::to_string(i) + ": ";
      if (!item.IsScalar()) {
        issues_.add(current_, s->origin, at + "expected a number, got " + (item.IsNull() ? "null" : "a list or map"));
        continue;
      }
      const auto v = parse_double(item.Scalar());
      if (!v) {
        issues_.add(current_, s->origin, at + "expected a number, got '" + item.Scalar() + "'");
        continue;
      }
      if (!bounds.contains(*v)) {
        issues_.add(current_, s->origin, at + item.Scalar() + " is out of range: must be in " + bounds.describe());
        continue;
      }
      read.push_back(*v);
    }
    if (read.size() == node->size()) values = std::move(read);
  }
  // A list of maps: element i is read by a reader of its own whose keys are `key[i].subkey`, so
  // that every check of a section's keys (unknown key, type, range, choice) applies and names it.
  // Elements start from default ones: keys an element leaves out keep their defaults.
  void list(const char* key, ListField& items, const char* help) override {
    const Setting* s = lookup(key);
    list_keys_.insert(current_);
    if (!s) return;
    if (s->is_null) {
      items.resize(0);
      return;
    }
    if (s->is_scalar) return bad_type(*s, "a list of maps");
    const auto node = parse_value(*s);
    if (!node) return;
    if (!node->IsSequence())
      return issues_.add(current_, s->origin, "expected a list of maps, got " + (node->IsMap() ? "a map" : "'" + s->value + "'"),
                         "write a list even for one element: [{...}]");
    const std::string list_key = current_;
    items.resize(node->size());
    for (std::size_t i = 0; i < node->size(); ++i) read_element(list_key, i, (*node)[i], s->origin, items);
  }

  // Adds an issue for every setting of the source that no field declared.
  void report_unknown(const std::string& unknown_key_hint) {
    for (const auto& [key, setting] : source_.settings()) {
      if (known_.count(key)) continue;
      if (sections_.count(key)) {
        issues_.add(key, setting.origin, "is a section: give it a map of keys");
        continue;
      }
      if (report_inside_list(key, setting)) continue;
      if (!element_.empty()) {
        // Suggest among this element's keys by their own names: the shared prefix would make
        // any key look near.
        const std::string leaf = key.substr(element_.size() + 1);
        const auto near = nearest(leaf, declared_);
        issues_.add(key, setting.origin, "unknown key",
                    near ? "did you mean " + element_ + "." + *near + "?" : "an element has the keys " + join(declared_, ", "));
        continue;
      }
      const std::vector<std::string> valid(known_.begin(), known_.end());
      const auto near = nearest(key, valid);
      issues_.add(key, setting.origin, "unknown key", near ? "did you mean " + *near + "?" : unknown_key_hint);
    }
  }

 private:
  const Setting* lookup(const char* key) {
    current_ = join_key(section_, key);
    known_.insert(current_);
    declared_.push_back(key);
    return source_.find(current_);
  }
  bool scalar(const Setting& s, const std::string& expected) {
    if (s.is_null) {
      issues_.add(current_, s.origin, "no value given; expected " + expected);
      return false;
    }
    if (!s.is_scalar) {
      issues_.add(current_, s.origin, "expected " + expected + ", got a list or map");
      return false;
    }
    return true;
  }
  void bad_type(const Setting& s, const std::string& expected) {
    issues_.add(current_, s.origin, "expected " + expected + ", got '" + s.value + "'");
  }
  void out_of_range(const Setting& s, const Bounds& b) {
    issues_.add(current_, s.origin, s.value + " is out of range: must be in " + b.describe());
  }
  // A list or map setting's flow text, parsed again (config_source.cpp wrote it).
  std::optional<YAML::Node> parse_value(const Setting& s) {
    try {
      return YAML::Load(s.value);
    } catch (const YAML::Exception& e) {
      issues_.add(current_, s.origin, "cannot read '" + s.value + "' as YAML: " + e.msg);
      return std::nullopt;
    }
  }
  void read_element(const std::string& list_key, std::size_t i, const YAML::Node& node, const std::string& origin,
                    ListField& items) {
    const std::string at = list_key + "[" + std::to_string(i) + "]";
    if (!node.IsMap()) {
      const std::string got = node.IsNull() ? "null" : node.IsScalar() ? "'" + node.Scalar() + "'" : "a list";
      issues_.add(at, origin, "expected a map of key: value, got " + got, "e.g. " + list_key + ": [{key: value, ...}, ...]");
      return;
    }
    ConfigSource element;
    for (const auto& kv : node) {
      if (!kv.first.IsScalar() || kv.first.Scalar().empty()) {
        issues_.add(at, origin, "a key must be a plain name, not empty, a list or a map");
        continue;
      }
      element.set(at + "." + kv.first.Scalar(), setting_of(kv.second, origin));
    }
    SettingsReader reader(element, issues_, at);
    items.visit_element(i, reader);
    reader.report_unknown("");
  }
  // `objective.mixture.kind` (a map under a list key) or `objective.mixture[0].kind=...` (one
  // element set on its own): a list is given whole.
  bool report_inside_list(const std::string& key, const Setting& setting) {
    for (const auto& list : list_keys_) {
      if (key.compare(0, list.size(), list) != 0 || key.size() == list.size()) continue;
      const char next = key[list.size()];
      if (next != '.' && next != '[') continue;
      issues_.add(key, setting.origin, list + " is a list of maps, given whole: its elements' keys cannot be set one by one",
                  "give the whole list, e.g. " + list + ": [{key: value, ...}, ...]");
      return true;
    }
    return false;
  }

  const ConfigSource& source_;
  IssueList& issues_;
  const std::string element_;
  std::string section_, current_;
  std::set<std::string> known_, sections_, list_keys_;
  std::vector<std::string> declared_;  // key names as declared, in order (an element's, for hints)
};

class YamlWriter final : public ValueWriter {
 public:
  std::ostringstream os;

  // Keys of the unnamed section (a probe task file's) are top-level: no header, no indent.
  void section(const char* name, const char*) override {
    indent_ = *name ? "  " : "";
    omit_ = false;
    if (*name) os << name << ":\n";
  }
  // One element per line, as a flow map: readable, and each element's keys stay together.
  void list(const char* key, ListField& items, const char*) override {
    if (omit_) return;
    if (items.size() == 0) return put(key, "[]");
    os << indent_ << key << ":\n";
    for (std::size_t i = 0; i < items.size(); ++i) os << indent_ << "  - " << element_flow_text(items, i) << "\n";
  }

 private:
  void put(const char* key, const std::string& text) override { os << indent_ << key << ": " << text << "\n"; }
  std::string indent_ = "  ";
};

}  // namespace

Schema build_schema(const VisitFn& visit) {
  SchemaBuilder builder;
  visit(builder);
  return std::move(builder.schema);
}

void apply_settings(const ConfigSource& source, const VisitFn& visit, IssueList& issues,
                    const std::string& unknown_key_hint) {
  SettingsReader reader(source, issues);
  visit(reader);
  reader.report_unknown(unknown_key_hint);
}

std::string to_yaml(const VisitFn& visit) {
  YamlWriter writer;
  visit(writer);
  return writer.os.str();
}

std::string describe_schema(const Schema& schema) {
  std::ostringstream os;
  std::string section;
  for (const auto& f : schema.fields) {
    const std::string sec = f.key.substr(0, f.key.find('.'));
    if (sec != section) {
      section = sec;
      os << "\n" << sec << ":";
      for (const auto& s : schema.sections)
        if (s.name == sec && !s.help.empty()) os << "  # " << s.help;
      os << "\n";
    }
    std::string type = type_name(f.type);
    if (f.type == ValueType::Choice) type = join(f.choices, " | ");
    else if (f.bounds.lo || f.bounds.hi) type += " in " + f.bounds.describe();
    os << "  " << f.key << " = " << f.default_text << "  (" << type << ")\n      " << f.help << "\n";
  }
  return os.str();
}

std::string yaml_quote(const std::string& text) {
  // Plain scalars that YAML would read as something else (a number, a bool, null, or syntax)
  // are double-quoted; everything else is written as is.
  bool plain = !text.empty() && !parse_double(text) && !parse_bool(text) && text != "null" &&
               text != "~" && text.find_first_of(":#{}[],&*!|>'\"%@`\n\t") == std::string::npos &&
               text.front() != ' ' && text.back() != ' ' && text.front() != '-' && text.front() != '?';
  if (plain) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace ankh::core
