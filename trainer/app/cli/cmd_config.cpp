// `ankh config CONFIG [overrides]`: print the resolved, validated config as YAML.
// `ankh config --help-keys`: list every key with type, default, range and description.
#include <iostream>

#include "trainer/app/cli/command.h"
#include "trainer/app/cli/config_args.h"

namespace ankh::cli {

Action setup_config(CLI::App& sub) {
  struct Options {
    ConfigArgs config;
    bool help_keys = false;
  };
  auto opts = std::make_shared<Options>();
  add_config_args(sub, opts->config, /*required=*/false);
  sub.add_flag("--help-keys", opts->help_keys, "list every config key with its type, default and range");
  return [opts]() {
    if (opts->help_keys) {
      std::cout << core::describe_schema(core::schema_of<trainer::RunConfig>());
      return 0;
    }
    if (opts->config.file.empty())
      throw core::UsageError("no config file given", "ankh config", "ankh config configs/ankh-tiny.yaml [key=value ...]");
    std::cout << trainer::to_yaml(opts->config.load());
    return 0;
  };
}

}  // namespace ankh::cli
