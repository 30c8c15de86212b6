// `ankh batches CONFIG [overrides] [--rank R] --world-size W --steps N`: the global sample order
// as the loader produces it, per rank: which sequences each rank gets at each step and, with
// --decode, the sequences and the objective's input and target in letters and sentinel names.
// --json prints one object per sample instead, for scripts and tests (the way to check that 1, 2
// and 4 ranks see the same global batches).
#include <iostream>

#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "data/loader.h"
#include "data/vocab.h"
#include "trainer/app/cli/choice_option.h"
#include "trainer/app/cli/command.h"
#include "trainer/app/cli/config_args.h"

namespace ankh::cli {

namespace {

struct Options {
  ConfigArgs config;
  int rank = -1;
  int world_size = 1;
  int64_t steps = 1, start_step = 0;
  data::Split split = data::Split::Train;
  bool decode = false, json = false;
};

std::string decode_bytes(const std::vector<uint8_t>& ids, const std::vector<std::string>& task_tokens) {
  return data::decode(std::vector<int64_t>(ids.begin(), ids.end()), task_tokens);
}

// One sample as the loader makes it, as JSON (--json) or as text (with --decode, in letters).
void print_sample(const Options& o, const data::Dataset& dataset, data::StepBuilder& builder, const data::PlannedStep& ps,
                  std::size_t i, int rank, int64_t global_batch, const std::vector<std::string>& task_tokens) {
  const data::Split split = o.split;
  const data::SampleRef& s = ps.samples[i];
  const data::Example& e = ps.examples[i];
  const data::TokenView residues = builder.order().residues(s);
  const int64_t global_index = ps.global_step * global_batch + s.position;
  if (o.json) {
    nlohmann::json j = {{"step", ps.global_step},    {"epoch", ps.epoch},          {"rank", rank},
                        {"global_index", global_index}, {"sample", s.index},       {"id", dataset.id(split, s.index)},
                        {"length", s.length},         {"crop_start", s.crop_start}, {"tokens", residues.ids()},
                        {"input_ids", e.input},       {"target_ids", e.target},     {"task", e.task},
                        {"task_kind", data::name_of(builder.objective().kind(static_cast<std::size_t>(e.task)))}};
    std::cout << j.dump() << "\n";
    return;
  }
  std::cout << "  rank " << rank << "  #" << global_index << "  sample " << s.index << "  " << dataset.id(split, s.index)
            << "  length " << s.length;
  if (s.crop_start > 0 || s.length < dataset.length(split, s.index))
    std::cout << " (cropped from " << dataset.length(split, s.index) << " at " << s.crop_start << ")";
  std::cout << "\n";
  if (o.decode) {
    if (builder.objective().size() > 1)
      std::cout << "      task     " << e.task << " (" << data::name_of(builder.objective().kind(static_cast<std::size_t>(e.task)))
                << ")\n";
    std::cout << "      sequence " << data::decode(residues.ids()) << "\n"
              << "      input    " << decode_bytes(e.input, task_tokens) << "\n"
              << "      target   " << decode_bytes(e.target, task_tokens) << "\n";
  }
}

int run(const Options& o) {
  const trainer::RunConfig config = o.config.load();
  if (config.data.dataset.empty())
    throw core::UsageError("data.dataset is not set", o.config.file, "pass data.dataset=DIR or set it in the config");
  if (o.rank >= o.world_size)
    throw core::UsageError("--rank " + std::to_string(o.rank) + " is not below --world-size " + std::to_string(o.world_size));
  auto dataset = data::Dataset::open(config.data.dataset);
  data::LoaderOptions lo = trainer::loader_options(config, o.split, 0, o.world_size);

  // One step builder per rank shown: the ranks' views of the same global steps.
  const int first_rank = o.rank >= 0 ? o.rank : 0;
  const int last_rank = o.rank >= 0 ? o.rank : o.world_size - 1;
  std::vector<std::unique_ptr<data::StepBuilder>> builders;
  for (int r = first_rank; r <= last_rank; ++r) {
    lo.rank = r;
    builders.push_back(std::make_unique<data::StepBuilder>(dataset, lo));
  }
  const data::StepBuilder& any = *builders.front();
  const int64_t total = any.total_steps();
  const std::vector<std::string> task_tokens = config.objective.task_tokens();
  if (!o.json) {
    std::cout << "# " << config.data.dataset << ": " << core::format_count(dataset->size(lo.split)) << " "
              << data::name_of(o.split) << " sequences; global batch " << lo.global_batch << ", micro batch "
              << lo.micro_batch << ", " << o.world_size << (o.world_size == 1 ? " rank" : " ranks") << "; "
              << any.steps_per_epoch() << " steps per epoch; objective " << any.objective().name() << ", max_length "
              << lo.data.max_length << ", seed " << lo.seed << "\n";
  }
  for (int64_t gs = o.start_step; gs < o.start_step + o.steps; ++gs) {
    if (total >= 0 && gs >= total) break;  // Valid: a finite order
    for (std::size_t k = 0; k < builders.size(); ++k) {
      data::StepBuilder& builder = *builders[k];
      const data::PlannedStep ps = builder.build(builder.at_global_step(gs), /*with_batches=*/false);
      if (!o.json && k == 0)
        std::cout << "step " << ps.global_step << " (epoch " << ps.epoch << ", step " << ps.step << " of the epoch): "
                  << ps.global_size << " samples, " << core::format_count(ps.global_target_tokens)
                  << " target tokens in the global batch\n";
      for (std::size_t i = 0; i < ps.samples.size(); ++i)
        print_sample(o, *dataset, builder, ps, i, first_rank + static_cast<int>(k), lo.global_batch, task_tokens);
    }
  }
  return 0;
}

}  // namespace

Action setup_batches(CLI::App& sub) {
  auto o = std::make_shared<Options>();
  add_config_args(sub, o->config);
  sub.add_option("--rank", o->rank, "the rank to show (default: every rank)")->check(CLI::NonNegativeNumber);
  sub.add_option("--world-size", o->world_size, "number of ranks")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--steps", o->steps, "global steps to show")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--start-step", o->start_step, "first global step (counted from the start of training)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  add_choice(sub, "--split", o->split, data::splits(), "valid: the fixed evaluation order");
  sub.add_flag("--decode", o->decode, "show each sample's sequence, encoder input and decoder target");
  sub.add_flag("--json", o->json,
               "one JSON object per sample: step, epoch, rank, global_index, sample, id, length, crop_start, tokens, "
               "input_ids, target_ids, task (index in objective.mixture), task_kind");
  return [o]() { return run(*o); };
}

}  // namespace ankh::cli
