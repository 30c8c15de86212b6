// Strict configs: schema listing, validated reading and YAML printing for any struct that
// declares its fields through FieldVisitor (see config_fields.h).
#pragma once

#include <functional>
#include <string>

#include "core/config_fields.h"
#include "core/config_source.h"
#include "core/error.h"

namespace ankh::core {

using VisitFn = std::function<void(FieldVisitor&)>;

// The declared keys of a config, with the defaults taken from the values `visit` sees.
Schema build_schema(const VisitFn& visit);

// Writes every setting of `source` into the fields `visit` exposes. Unknown keys (with the
// nearest valid key suggested), wrong types and out-of-range values are added to `issues`;
// nothing is thrown, so that the caller reports every problem at once.
// `unknown_key_hint`: the hint for an unknown key with no near valid one.
void apply_settings(const ConfigSource& source, const VisitFn& visit, IssueList& issues,
                    const std::string& unknown_key_hint = "see `ankh config --help-keys`");

// The values `visit` exposes, as YAML with one block per section.
std::string to_yaml(const VisitFn& visit);

// `ankh config --help-keys`: one line per key with type, default, range and description.
std::string describe_schema(const Schema& schema);

// A YAML scalar for `text`, quoted only when it would otherwise read back differently.
std::string yaml_quote(const std::string& text);

// Convenience wrappers for a struct C with `void visit(FieldVisitor&)` and `void validate(IssueList&) const`.
template <class C>
Schema schema_of() {
  C defaults;
  return build_schema([&](FieldVisitor& v) { defaults.visit(v); });
}

// `found`: problems the caller found in `source` itself, reported together with the rest.
template <class C>
C resolve(const ConfigSource& source, const IssueList& found = {}) {
  C config;
  IssueList issues = found;
  for (const auto& issue : source.issues().issues())
    issues.add(issue.key, issue.origin, issue.message, issue.hint);
  apply_settings(source, [&](FieldVisitor& v) { config.visit(v); }, issues);
  if (issues.empty()) config.validate(issues);  // cross-field checks need well-typed fields
  issues.throw_if_any();
  return config;
}

template <class C>
std::string dump_yaml(C& config) {
  return to_yaml([&](FieldVisitor& v) { config.visit(v); });
}

}  // namespace ankh::core
