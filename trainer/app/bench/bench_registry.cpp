#include "trainer/app/bench/benchmark.h"

namespace ankh::bench {

// Each is defined in bench_<name>.cpp. Training throughput over 1 and 2 ranks needs separate
// mpirun launches of `ankh train`: scripts/bench/train_scaling.sh.
cli::Action setup_data(CLI::App&);
cli::Action setup_objective(CLI::App&);
cli::Action setup_model(CLI::App&);
cli::Action setup_comm(CLI::App&);
cli::Action setup_checkpoint(CLI::App&);
cli::Action setup_generate(CLI::App&);

const std::vector<Benchmark>& benchmarks() {
  static const std::vector<Benchmark> all = {
      {"data", "preprocess MB/s against seqtk; loader samples/s and tokens/s per core", setup_data},
      {"objective", "objective tokens/s per core on real proteins", setup_objective},
      {"model", "forward+backward tokens/s and model FLOP utilisation against a measured matmul peak", setup_model},
      {"comm", "all-reduce bandwidth of the communicator and gradient buckets", setup_comm},
      {"checkpoint", "checkpoint save/load GB/s against a raw sequential write", setup_checkpoint},
      {"generate", "greedy generation tokens/s with the incremental decoder cache against without", setup_generate},
  };
  return all;
}

}  // namespace ankh::bench
