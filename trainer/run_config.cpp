#include "trainer/run_config.h"

#include <algorithm>

#include "data/objectives/objective.h"
#include "data/vocab.h"
#include "trainer/optim/schedule.h"

namespace ankh::trainer {

void RunConfig::visit(core::FieldVisitor& v) {
  run.visit(v);
  data.visit(v);
  objective.visit(v);
  model.visit(v);
  optim.visit(v);
  train.visit(v);
  dist.visit(v);
  checkpoint.visit(v);
}

void RunConfig::validate(core::IssueList& issues) const {
  run.validate(issues);
  data.validate(issues);
  objective.validate(issues);
  data::validate_objective(objective, data, issues);  // sentinels needed at data.max_length
  model.validate(issues);
  optim.validate(issues);
  train.validate(issues);
  optim::validate_schedule(optim, train.max_steps, issues);  // warmup must fit in max_steps
  dist.validate(issues);
  checkpoint.validate(issues);
}

RunConfig resolve_run_config(const core::ConfigSource& source) {
  core::IssueList found;
  data::check_mixture_keys(source, found);
  RunConfig config = core::resolve<RunConfig>(source, found);
  // Task tokens need embedding rows after Ankh's 144: the model grows to fit (a larger
  // vocab_size set by hand stays). A resolved config printed and read again is unchanged.
  config.model.vocab_size = std::max(config.model.vocab_size, data::vocab_size_for(config.objective.task_tokens().size()));
  return config;
}

RunConfig load_run_config(const std::filesystem::path& file, const std::vector<std::string>& overrides) {
  core::ConfigSource source;
  source.add_file(file);
  for (const auto& o : overrides) source.add_override(o);
  return resolve_run_config(source);
}

data::LoaderOptions loader_options(const RunConfig& config, data::Split split, int rank, int world_size) {
  data::LoaderOptions o;
  o.data = config.data;
  o.objective = config.objective;
  o.seed = static_cast<uint64_t>(config.run.seed);
  o.global_batch = config.train.global_batch;
  o.micro_batch = config.train.micro_batch;
  o.rank = rank;
  o.world_size = world_size;
  o.split = split;
  o.max_steps = split == data::Split::Valid ? config.train.eval_batches : 0;
  o.background = split == data::Split::Train;
  return o;
}

std::string to_yaml(const RunConfig& config) {
  RunConfig copy = config;  // visit() takes the fields by reference
  return core::dump_yaml(copy);
}

}  // namespace ankh::trainer
