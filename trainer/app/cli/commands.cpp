#include "trainer/app/cli/command.h"

namespace ankh::cli {

// Each is defined in cmd_<name>.cpp.
Action setup_preprocess(CLI::App&);
Action setup_train(CLI::App&);
Action setup_eval(CLI::App&);
Action setup_export(CLI::App&);
Action setup_embed(CLI::App&);
Action setup_score(CLI::App&);
Action setup_generate(CLI::App&);
Action setup_probe(CLI::App&);
Action setup_sweep(CLI::App&);
Action setup_status(CLI::App&);
Action setup_verify(CLI::App&);
Action setup_info(CLI::App&);
Action setup_config(CLI::App&);
Action setup_batches(CLI::App&);
Action setup_bench(CLI::App&);

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {
      {"preprocess", "FASTA(.gz) -> dataset directory (manifest.yaml + HDF5 shards)", setup_preprocess},
      {"train", "pre-train a model (single process or under mpirun)", setup_train},
      {"eval", "validation loss and accuracy of a checkpoint", setup_eval},
      {"export", "checkpoint -> Hugging Face T5 directory", setup_export},
      {"embed", "per-protein (and per-residue) encoder embeddings -> HDF5", setup_embed},
      {"score", "zero-shot variant effects (masked marginals) of a mutations CSV", setup_score},
      {"generate", "protein variants from a seed FASTA: infill or completion, greedy, sampled or beam", setup_generate},
      {"probe", "downstream probes of a model or baseline: GO transfer (Fmax), classification", setup_probe},
      {"status", "is a run complete? (exit 0), or not yet (exit 3)", setup_status},
      {"verify", "read a dataset, checkpoint, run or export whole; report every problem", setup_verify},
      {"sweep", "run a grid of configs and summarise them", setup_sweep},
      {"info", "parameters, FLOPs per token and memory of a config", setup_info},
      {"config", "print the resolved, validated config as YAML", setup_config},
      {"batches", "print the global sample order and decoded examples", setup_batches},
      {"bench", "benchmarks: data pipeline, model, communication, checkpoints", setup_bench},
  };
  return all;
}

}  // namespace ankh::cli
