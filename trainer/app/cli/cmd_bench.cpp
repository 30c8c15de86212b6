// `ankh bench NAME [options]`: one subcommand per benchmark (trainer/app/bench/).
#include "trainer/app/bench/benchmark.h"
#include "trainer/app/cli/command.h"

namespace ankh::cli {

Action setup_bench(CLI::App& sub) {
  sub.require_subcommand(1);
  sub.footer("Training throughput (1 vs 2 ranks, overlap on/off) launches `ankh train` under mpirun:\n"
             "scripts/bench/train_scaling.sh. Results and commands: docs/performance.md");
  auto chosen = std::make_shared<Action>();
  for (const auto& b : bench::benchmarks()) {
    CLI::App* app = sub.add_subcommand(b.name, b.summary);
    Action a = b.setup(*app);
    app->callback([chosen, a]() { *chosen = a; });
  }
  return [chosen]() { return (*chosen)(); };
}

}  // namespace ankh::cli
