// `ankh verify PATH`: reads a dataset directory, a checkpoint, a run's checkpoints or a Hugging
// Face export whole and reports every problem it finds (not only the first): what a user runs
// when an error says the data is damaged, or before trusting a copy. Exits 1 when there is one.
#include <iostream>

#include <fmt/format.h>

#include "checkpoints/checkpoint_dir.h"
#include "checkpoints/checkpoint_verify.h"
#include "core/error.h"
#include "core/strings.h"
#include "data/dataset_verify.h"
#include "data/shard_format.h"
#include "trainer/app/cli/command.h"
#include "trainer/weights/hf_verify.h"

namespace ankh::cli {

namespace fs = std::filesystem;

namespace {

struct VerifyArgs {
  std::string path;
  int threads = 0;
  bool no_progress = false;
};

enum class Target { Dataset, Checkpoint, Run, HuggingFace };

// What PATH holds, from the file that defines each kind.
Target target_of(const fs::path& path) {
  if (!fs::is_directory(path))
    throw core::UsageError("no such directory", path.string(),
                           "give a dataset directory, a checkpoint (RUN/checkpoints/step-N), a run directory or an "
                           "`ankh export` directory");
  if (fs::exists(path / data::shard::kManifestName)) return Target::Dataset;
  if (fs::exists(path / checkpoints::kCommitMarker) ||
      checkpoints::parse_checkpoint_name(fs::absolute(path).lexically_normal().filename().string()))
    return Target::Checkpoint;
  if (fs::exists(path / "config.json")) return Target::HuggingFace;
  if (fs::is_directory(checkpoints::checkpoints_dir(path)) || fs::exists(path / "metrics.jsonl")) return Target::Run;
  throw core::UsageError("not a dataset, checkpoint, run or Hugging Face export: no manifest.yaml, COMMITTED, "
                         "config.json or checkpoints/ here",
                         path.string());
}

core::VerifyReport verify(const VerifyArgs& a) {
  const fs::path path = a.path;
  const bool progress = !a.no_progress;
  switch (target_of(path)) {
    case Target::Dataset: return data::verify_dataset(path, {a.threads, progress});
    case Target::Checkpoint: return checkpoints::verify_checkpoint(path, {a.threads, progress});
    case Target::Run: return checkpoints::verify_run_checkpoints(path, {a.threads, progress});
    case Target::HuggingFace: return weights::verify_hf_export(path);
  }
  return {};
}

}  // namespace

Action setup_verify(CLI::App& sub) {
  auto a = std::make_shared<VerifyArgs>();
  sub.add_option("path", a->path, "dataset directory, checkpoint, run directory or Hugging Face directory")->required();
  sub.add_option("--threads", a->threads, "reader threads (default: the host's cores)")->check(CLI::NonNegativeNumber);
  sub.add_flag("--no-progress", a->no_progress, "no progress bar");
  sub.footer(
      "A dataset: every shard against the manifest (size, structure, offsets, the tokens' checksum, every token\n"
      "a residue id, the residue composition). A checkpoint, or every checkpoint of a run: the commit marker and\n"
      "every file against its recorded size and XXH64. A Hugging Face directory: config.json against the\n"
      "tensors' names and shapes, finite values, tokenizer.json against Ankh's ids.\n"
      "Prints every problem found and exits 1 when there is one, 0 otherwise.");
  return [a]() {
    const core::VerifyReport r = verify(*a);
    for (const auto& note : r.notes) std::cout << "note: " << note << "\n";
    for (const auto& p : r.problems) std::cout << "PROBLEM " << p.where << ": " << p.what << "\n";
    const double mb_s = r.seconds > 0 ? static_cast<double>(r.bytes) / r.seconds / 1e6 : 0;
    std::cout << fmt::format("{} {}: {} files, {:.1f} MB read in {:.2f} s ({:.0f} MB/s): {}\n", r.kind, a->path, r.files,
                             static_cast<double>(r.bytes) / 1e6, r.seconds, mb_s,
                             r.ok() ? "OK" : std::to_string(r.problems.size()) + " problem(s)");
    if (!r.ok())
      throw core::InputError(std::to_string(r.problems.size()) + " problem(s) found in the " + r.kind, a->path,
                             r.kind == "dataset" ? "re-run `ankh preprocess` to rebuild it"
                                                 : "use an earlier checkpoint, or export again");
    return 0;
  };
}

}  // namespace ankh::cli
