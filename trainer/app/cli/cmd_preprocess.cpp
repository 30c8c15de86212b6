// `ankh preprocess --input FASTA[.gz] [--input ...] --output DIR`: FASTA -> dataset directory
// (manifest.yaml + HDF5 shards; docs/formats.md).
#include <thread>

#include <spdlog/spdlog.h>

#include "core/strings.h"
#include "data/preprocess.h"
#include "trainer/app/cli/choice_option.h"
#include "trainer/app/cli/command.h"

namespace ankh::cli {

Action setup_preprocess(CLI::App& sub) {
  struct Options {
    std::vector<std::string> inputs;
    std::string output;
    data::InvalidPolicy on_invalid = data::InvalidPolicy::Error;
    double valid_fraction = 0.001;
    int64_t shard_sequences = 0, shard_mb = 128;
    int threads = 0;
    bool overwrite = false, no_progress = false;
  };
  auto o = std::make_shared<Options>();
  sub.add_option("--input,-i", o->inputs, "FASTA file, plain or gzip-compressed (repeatable)")->required();
  sub.add_option("--output,-o", o->output, "dataset directory to create")->required();
  sub.add_option("--valid-fraction", o->valid_fraction,
                 "fraction of records in the valid split, chosen by a hash of the record id")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.999999));
  add_choice(sub, "--on-invalid", o->on_invalid, data::invalid_policies(),
             "characters outside the vocabulary: error (stop, naming file and line), unk (store <unk>), "
             "skip (drop the record)");
  auto* by_count = sub.add_option("--shard-sequences", o->shard_sequences, "sequences per shard")->check(CLI::PositiveNumber);
  sub.add_option("--shard-mb", o->shard_mb, "shard size in MiB (residues + offsets + ids)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->excludes(by_count);
  sub.add_option("--threads", o->threads,
                 "threads: one parses, the others write shards (0: up to 4, as the machine has cores)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub.add_flag("--overwrite", o->overwrite, "replace a dataset already in the output directory");
  sub.add_flag("--no-progress", o->no_progress, "no progress bar or periodic progress lines");
  return [o]() {
    data::PreprocessOptions p;
    for (const auto& in : o->inputs) p.inputs.emplace_back(in);
    p.output = o->output;
    p.valid_fraction = o->valid_fraction;
    p.on_invalid = o->on_invalid;
    p.shard_sequences = o->shard_sequences;
    p.shard_mb = o->shard_mb;
    p.threads = o->threads > 0 ? o->threads : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
    p.overwrite = o->overwrite;
    p.progress = !o->no_progress;

    const data::PreprocessResult r = data::preprocess(p);
    const auto& m = r.manifest;
    const auto train = m.totals(data::Split::Train), valid = m.totals(data::Split::Valid);
    spdlog::info("preprocess: {} records -> {} train + {} valid sequences, {} residues, {} shards in {}",
                 core::format_count(m.counts.records), core::format_count(train.sequences),
                 core::format_count(valid.sequences), core::format_count(m.counts.residues),
                 train.shards + valid.shards, p.output.string());
    spdlog::info("preprocess: {} of input in {} ({:.1f} MB/s, {} threads)", core::format_bytes(static_cast<double>(r.input_bytes)),
                 core::format_duration(r.seconds), r.input_bytes / std::max(r.seconds, 1e-9) / 1e6, p.threads);
    spdlog::info("preprocess: {} empty records skipped, {} trailing '*' stripped, {} invalid characters ({} as <unk>, "
                 "{} records skipped)",
                 core::format_count(m.counts.empty_records), core::format_count(m.counts.stripped_stops),
                 core::format_count(m.counts.invalid_characters), core::format_count(m.counts.unknown_residues),
                 core::format_count(m.counts.skipped_invalid));
    if (m.counts.duplicate_ids > 0)
      spdlog::warn("preprocess: {} records repeat an earlier record's id (kept), e.g. {}", core::format_count(m.counts.duplicate_ids),
                   core::join(r.duplicate_examples, ", "));
    return 0;
  };
}

}  // namespace ankh::cli
