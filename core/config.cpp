#include "core/config.h"

#include <set>
#include <sstream>

#include "core/strings.h"

namespace ankh::core {

namespace {

std::string join_key(const std::string& section, const char* key) {
  return section.empty() ? std::string(key) : section + "." + key;
}

class SchemaBuilder final : public FieldVisitor {
 public:
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

 private:
  void add(const char* key, ValueType type, std::string def, Bounds bounds,
           std::vector<std::string> choices, const char* help) {
    schema.fields.push_back({join_key(section_, key), type, std::move(def), bounds, std::move(choices), help});
  }
  std::string section_;
};

class SettingsReader final : public FieldVisitor {
 public:
  SettingsReader(const ConfigSource& source, IssueList& issues) : source_(source), issues_(issues) {}
  std::set<std::string> known;
  std::set<std::string> sections;

  void section(const char* name, const char*) override {
    section_ = name;
    sections.insert(name);
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

 private:
  const Setting* lookup(const char* key) {
    current_ = join_key(section_, key);
    known.insert(current_);
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

  const ConfigSource& source_;
  IssueList& issues_;
  std::string section_, current_;
};

class YamlWriter final : public FieldVisitor {
 public:
  std::ostringstream os;

  // Keys of the unnamed section (a probe task file's) are top-level: no header, no indent.
  void section(const char* name, const char*) override {
    indent_ = *name ? "  " : "";
    if (*name) os << name << ":\n";
  }
  void field(const char* key, int64_t& value, Bounds, const char*) override { line(key, std::to_string(value)); }
  void field(const char* key, double& value, Bounds, const char*) override { line(key, format_double(value)); }
  void field(const char* key, bool& value, const char*) override { line(key, value ? "true" : "false"); }
  void field(const char* key, std::string& value, const char*) override { line(key, yaml_quote(value)); }
  void choice(const char* key, std::string& value, const std::vector<std::string>&, const char*) override {
    line(key, yaml_quote(value));
  }

 private:
  void line(const char* key, const std::string& text) { os << indent_ << key << ": " << text << "\n"; }
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
  const std::vector<std::string> valid(reader.known.begin(), reader.known.end());
  for (const auto& [key, setting] : source.settings()) {
    if (reader.known.count(key)) continue;
    if (reader.sections.count(key)) {
      issues.add(key, setting.origin, "is a section: give it a map of keys");
      continue;
    }
    const auto near = nearest(key, valid);
    issues.add(key, setting.origin, "unknown key", near ? "did you mean " + *near + "?" : unknown_key_hint);
  }
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
