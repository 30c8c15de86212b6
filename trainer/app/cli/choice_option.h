// A command-line option whose value is one of an enum's names (`--device cuda`): parsed, listed
// in --help and refused with the valid names, all from the enum's core::Choices table.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "core/choices.h"
#include "core/strings.h"

namespace ankh::cli {

// `choices` must outlive the parse (the tables are function-local statics); so must `value`.
template <class E>
CLI::Option* add_choice(CLI::App& app, const std::string& flags, E& value, const core::Choices<E>& choices,
                        const std::string& help) {
  auto* option = app.add_option_function<std::string>(
      flags, [&value, &choices](const std::string& name) { value = *choices.parse(name); }, help);
  return option->check(CLI::IsMember(choices.names()).description(""))
      ->type_name(core::join(choices.names(), "|"))
      ->default_str(choices.name(value));
}

}  // namespace ankh::cli
