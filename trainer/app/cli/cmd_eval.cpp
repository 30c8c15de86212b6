// `ankh eval CONFIG [overrides] [--checkpoint DIR]`: validation loss, residue loss, masked-residue
// accuracy and perplexity of a checkpoint on the config's valid split (single process or mpirun),
// and the same per task for an objective mixture (the record's "tasks").
#include <iostream>

#include <spdlog/spdlog.h>

#include "checkpoints/checkpoint_dir.h"
#include "core/logging.h"
#include "trainer/app/cli/command.h"
#include "trainer/app/cli/config_args.h"
#include "trainer/parallel/device.h"
#include "trainer/parallel/make_communicator.h"
#include "trainer/parallel/mpi_env.h"
#include "trainer/evaluator.h"
#include "trainer/weights/model_io.h"

namespace ankh::cli {

Action setup_eval(CLI::App& sub) {
  struct Options {
    ConfigArgs config;
    std::string checkpoint = "auto";
  };
  auto o = std::make_shared<Options>();
  add_config_args(sub, o->config);
  sub.add_option("--checkpoint", o->checkpoint,
                 "checkpoint directory, a run directory, or auto (newest committed one of run.dir)")
      ->capture_default_str();
  return [o]() {
    const trainer::RunConfig config = o->config.load();
    parallel::MpiSession mpi;
    core::set_log_rank(mpi.rank());
    auto from = checkpoints::ResumeFrom::parse(o->checkpoint);
    if (from.mode == checkpoints::ResumeFrom::Mode::None) from.mode = checkpoints::ResumeFrom::Mode::Auto;  // something to evaluate
    const auto reader = checkpoints::resolve_resume(config.run.dir, from);
    if (!reader)
      throw core::CheckpointError("no committed checkpoint to evaluate", config.run.dir,
                                  "train first, or pass --checkpoint DIR");
    const torch::Device device = parallel::choose_device(mpi);
    auto comm = parallel::make_communicator(config.dist, mpi, device);
    model::T5Model model(config.model);
    weights::load_parameters(model, reader->load_tensors("model.safetensors"), reader->dir().string());
    model->to(device);
    const auto dataset = data::Dataset::open(config.data.dataset);
    const auto result = trainer::evaluate(model, dataset, config, *comm, device);
    if (mpi.rank() == 0) {
      auto record = metrics::to_json(result.record(reader->step(), 0, trainer::unigram_entropy(*dataset)));
      record.erase("tokens");  // not known from a checkpoint alone
      record["checkpoint"] = reader->dir().string();
      std::cout << record.dump(2) << "\n";
    }
    return 0;
  };
}

}  // namespace ankh::cli
