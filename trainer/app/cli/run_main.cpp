#include <c10/util/Exception.h>
#include <spdlog/spdlog.h>

#include "ankh/build_config.h"
#include "core/error.h"
#include "core/logging.h"
#include "trainer/app/cli/command.h"
#include "trainer/parallel/mpi_env.h"

namespace ankh::cli {

namespace {

int report(const core::Error& e) {
  spdlog::error("{}", e.describe());
  parallel::abort_job_if_distributed(e.exit_code());
  return e.exit_code();
}

}  // namespace

int run_main(int argc, char** argv) {
  // A rank-less logger until a command knows its rank and run directory.
  core::setup_logging({});
  CLI::App app{"ankh: pre-train Ankh-style protein language models (T5 encoder-decoders)", "ankh"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ankh ") + ANKH_VERSION);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
  app.footer("Run `ankh COMMAND --help` for a command's options. Docs: docs/README.md");

  Action action;
  for (const auto& command : commands()) {
    CLI::App* sub = app.add_subcommand(command.name, command.summary);
    Action a = command.setup(*sub);
    sub->callback([&action, a]() { action = a; });
  }

  try {
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      // Prints the help or the parse error. Misuse exits 2, like other command-line tools.
      return app.exit(e) == 0 ? 0 : core::UsageError("").exit_code();
    }
    core::setup_logging({0, 1, core::parse_log_level(log_level), std::nullopt});
    return action();
  } catch (const core::Error& e) {
    return report(e);
  } catch (const c10::OutOfMemoryError& e) {
    // Not a bug but a size: say so, without LibTorch's stack trace.
    const std::string what = e.what();
    return report(core::Error("out of device memory: " + what.substr(0, what.find('\n')), "",
                              "lower train.micro_batch (--batch for ankh bench, --batch-size for embed, score and "
                              "generate), or set model.activation_checkpointing=true"));
  } catch (const std::exception& e) {
    return report(core::Error(std::string("internal error: ") + e.what(), "",
                              "please report this with the command line and the log"));
  }
}

}  // namespace ankh::cli
