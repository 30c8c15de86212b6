// `ankh bench data`: the data pipeline on the real Swiss-Prot corpus (scripts/get-proteins.sh).
//   1. preprocess throughput (1 thread) against `seqtk seq -l0` on the same file in the same run,
//      plain and gzip: each is run --repeat times, interleaved, and the best time counts;
//   2. the loader (global order, crop, objective, padding) on one core: samples/s and tokens/s,
//      with the single objective (--objective) and, in the same run, with the objective mixture
//      of a run config (--mixture, default configs/ankh3-style.yaml).
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/strings.h"
#include "core/timer.h"
#include "data/loader.h"
#include "data/preprocess.h"
#include "trainer/run_config.h"
#include "trainer/app/bench/benchmark.h"
#include "trainer/app/cli/choice_option.h"

namespace ankh::bench {

namespace fs = std::filesystem;

namespace {

std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

double time_command(const std::string& command) {
  core::Stopwatch clock;
  const int rc = std::system(command.c_str());
  const double seconds = clock.seconds();
  if (rc != 0) throw core::Error("benchmark command failed (exit " + std::to_string(rc) + "): " + command);
  return seconds;
}

double time_preprocess(const fs::path& input, const fs::path& output) {
  // A fresh output directory each time: deleting the previous run's shards is not part of it.
  fs::remove_all(output);
  ::sync();
  data::PreprocessOptions o;
  o.inputs = {input};
  o.output = output;
  o.threads = 1;
  o.progress = false;
  core::Stopwatch clock;
  data::preprocess(o);
  return clock.seconds();
}

struct Pair {
  double ankh = 1e300, seqtk = 1e300;  // best seconds
};

Pair compare(const fs::path& input, const fs::path& output, int repeat) {
  Pair best;
  time_command("cat " + quote(input) + " > /dev/null");  // the page cache, for both alike
  for (int i = 0; i < repeat; ++i) {
    best.seqtk = std::min(best.seqtk, time_command("seqtk seq -l0 " + quote(input) + " > /dev/null"));
    best.ankh = std::min(best.ankh, time_preprocess(input, output));
    spdlog::info("bench data: {}: round {}: ankh {:.2f} s, seqtk {:.2f} s", input.filename().string(), i + 1, best.ankh,
                 best.seqtk);
  }
  return best;
}

}  // namespace

cli::Action setup_data(CLI::App& sub) {
  struct Options {
    std::string plain = "data/raw/swissprot.fasta", gzip = "data/raw/swissprot.fasta.gz", work;
    int repeat = 3;
    int64_t loader_steps = 40, global_batch = 256, micro_batch = 16, max_length = 512;
    data::ObjectiveKind objective = data::ObjectiveKind::Ankh;
    std::string mixture = "configs/ankh3-style.yaml";
    bool loader_only = false;
  };
  auto o = std::make_shared<Options>();
  sub.add_option("--input", o->plain, "plain FASTA (scripts/get-proteins.sh writes it)")->capture_default_str();
  sub.add_option("--gzip", o->gzip, "the same FASTA, gzip-compressed")->capture_default_str();
  sub.add_option("--work", o->work, "scratch directory for the datasets (default: a temporary one, removed)");
  sub.add_option("--repeat", o->repeat, "timed runs of each tool; the best counts")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--loader-steps", o->loader_steps, "global steps the loader builds")->capture_default_str();
  sub.add_option("--global-batch", o->global_batch, "loader global batch")->capture_default_str();
  sub.add_option("--micro-batch", o->micro_batch, "loader micro batch")->capture_default_str();
  sub.add_option("--max-length", o->max_length, "loader data.max_length")->capture_default_str();
  cli::add_choice(sub, "--objective", o->objective, data::objective_kinds(), "loader objective.kind");
  sub.add_option("--mixture", o->mixture, "a run config whose objective (a mixture) the loader also runs")->capture_default_str();
  sub.add_flag("--loader-only", o->loader_only, "preprocess once untimed and measure only the loader (no seqtk)");
  return [o]() {
    // The mixture's objective section, read and checked before minutes of preprocessing.
    data::ObjectiveConfig mixture = trainer::load_run_config(o->mixture, {}).objective;
    for (const fs::path& p : {fs::path(o->plain), fs::path(o->gzip)})
      if (!fs::exists(p)) throw core::IoError("benchmark input not found", p.string(), "run scripts/get-proteins.sh first");
    if (!o->loader_only && std::system("command -v seqtk > /dev/null") != 0)
      throw core::Error("seqtk not found", "ankh bench data", "apt-get install seqtk (the baseline of this benchmark)");
    const bool temporary = o->work.empty();
    const fs::path work = temporary ? fs::temp_directory_path() / ("ankh-bench-data-" + std::to_string(::getpid())) : fs::path(o->work);
    fs::create_directories(work);
    struct Cleanup {
      fs::path dir;
      bool active;
      ~Cleanup() {
        std::error_code ec;
        if (active) fs::remove_all(dir, ec);
      }
    } cleanup{work, temporary};

    const double plain_mb = static_cast<double>(fs::file_size(o->plain)) / 1e6;
    const double gzip_mb = static_cast<double>(fs::file_size(o->gzip)) / 1e6;
    Pair plain, gz;
    if (o->loader_only) {
      time_preprocess(o->plain, work / "plain");
    } else {
      plain = compare(o->plain, work / "plain", o->repeat);
      gz = compare(o->gzip, work / "gzip", o->repeat);
    }

    // The loader, synchronously on this thread (one core), with each objective in turn over the
    // same steps; best of --repeat passes, interleaved so that both see the same machine.
    auto dataset = data::Dataset::open(work / "plain");
    struct LoaderRun {
      std::string label;
      data::ObjectiveConfig objective;
      double seconds = 1e300;
      int64_t samples = 0, tokens = 0;
    };
    data::ObjectiveConfig single;
    single.single.kind = o->objective;
    std::vector<LoaderRun> runs = {{std::string(data::name_of(o->objective)) + " objective", single},
                                   {"mixture of " + fs::path(o->mixture).filename().string(), mixture}};
    for (int pass = 0; pass < o->repeat; ++pass)
      for (auto& run : runs) {
        data::LoaderOptions lo;
        lo.data.max_length = o->max_length;
        lo.objective = run.objective;
        lo.seed = 1234;
        lo.global_batch = o->global_batch;
        lo.micro_batch = o->micro_batch;
        lo.background = false;
        data::StepBuilder builder(dataset, lo);
        data::LoaderState at = builder.at_global_step(1000);  // somewhere inside an epoch
        builder.build(at);  // warm the page cache of the mapped shard
        int64_t samples = 0, tokens = 0;
        core::Stopwatch clock;
        for (int64_t s = 0; s < o->loader_steps; ++s) {
          const data::PlannedStep ps = builder.build(at);
          // The samples' residues and </s> (not the encoder inputs, which completion shortens).
          for (const auto& sample : ps.samples) tokens += sample.length + 1;
          samples += static_cast<int64_t>(ps.samples.size());
          at = builder.after(at);
        }
        run.seconds = std::min(run.seconds, clock.seconds());
        run.samples = samples;
        run.tokens = tokens;
      }

    std::cout << "\n| measurement | ankh | baseline (same run) | ratio | target |\n|---|---|---|---|---|\n";
    const double r_plain = plain.seqtk / plain.ankh, r_gzip = gz.seqtk / gz.ankh;
    if (!o->loader_only) {
      std::printf("| preprocess, plain FASTA (%.0f MB), 1 thread | %.0f MB/s | seqtk seq -l0: %.0f MB/s | %.2f | >= 0.5 |\n",
                  plain_mb, plain_mb / plain.ankh, plain_mb / plain.seqtk, r_plain);
      std::printf("| preprocess, gzip FASTA (%.0f MB), 1 thread | %.0f MB/s | seqtk seq -l0: %.0f MB/s | %.2f | >= 0.8 |\n",
                  gzip_mb, gzip_mb / gz.ankh, gzip_mb / gz.seqtk, r_gzip);
    }
    const LoaderRun& base = runs[0];
    for (const auto& run : runs)
      std::printf("| loader (%s, G=%lld, b=%lld, max_length %lld), 1 core | %s samples/s, %s tokens/s | %s | %.2f | >= 1 M tokens/s |\n",
                  run.label.c_str(), static_cast<long long>(o->global_batch), static_cast<long long>(o->micro_batch),
                  static_cast<long long>(o->max_length), core::format_si(run.samples / run.seconds).c_str(),
                  core::format_si(run.tokens / run.seconds).c_str(), &run == &base ? "-" : base.label.c_str(),
                  (run.tokens / run.seconds) / (base.tokens / base.seconds));
    std::cout.flush();
    bool ok = o->loader_only || (r_plain >= 0.5 && r_gzip >= 0.8);
    for (const auto& run : runs) ok = ok && run.tokens / run.seconds >= 1e6;
    if (!ok) spdlog::warn("bench data: below a target (see the table)");
    return 0;
  };
}

}  // namespace ankh::bench
