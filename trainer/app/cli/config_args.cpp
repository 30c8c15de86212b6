#include "trainer/app/cli/config_args.h"

namespace ankh::cli {

void add_config_args(CLI::App& sub, ConfigArgs& args, bool required) {
  auto* file = sub.add_option("config", args.file, "run config (YAML), e.g. configs/ankh-tiny.yaml");
  if (required) file->required();
  sub.add_option("overrides", args.overrides, "section.key=value overrides, applied after the file")
      ->expected(0, -1);
}

}  // namespace ankh::cli
