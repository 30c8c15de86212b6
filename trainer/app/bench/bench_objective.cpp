// `ankh bench objective`: each objective's throughput on one core, on real proteins (the first
// --proteins records of scripts/get-proteins.sh's Swiss-Prot FASTA, cropped to max_length - 1
// residues), next to the cost of merely copying the same residues (the floor of any objective).
#include <cstring>
#include <iostream>

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/strings.h"
#include "core/timer.h"
#include "data/fasta_reader.h"
#include "data/objectives/objective.h"
#include "trainer/app/bench/benchmark.h"

namespace ankh::bench {

cli::Action setup_objective(CLI::App& sub) {
  struct Options {
    std::string input = "data/raw/swissprot.fasta";
    int64_t proteins = 100000, max_length = 512, passes = 3;
    double mask_prob = 0.2, mean_span_length = 3;
  };
  auto o = std::make_shared<Options>();
  sub.add_option("--input", o->input, "FASTA with real proteins (scripts/get-proteins.sh)")->capture_default_str();
  sub.add_option("--proteins", o->proteins, "proteins to read from it")->capture_default_str()->check(CLI::PositiveNumber);
  sub.add_option("--max-length", o->max_length, "data.max_length: proteins are cropped to max_length - 1 residues")
      ->capture_default_str();
  sub.add_option("--passes", o->passes, "timed passes over the proteins; the best counts")->capture_default_str();
  sub.add_option("--mask-prob", o->mask_prob, "objective.mask_prob")->capture_default_str();
  sub.add_option("--mean-span-length", o->mean_span_length, "objective.mean_span_length")->capture_default_str();
  return [o]() {
    if (!std::filesystem::exists(o->input))
      throw core::IoError("benchmark input not found", o->input, "run scripts/get-proteins.sh first");
    // Read and crop the proteins once, outside the timing.
    std::vector<std::vector<uint8_t>> proteins;
    int64_t residues = 0;
    {
      data::FastaReader reader(data::InputStream::open(o->input), data::InvalidPolicy::Unk);
      data::FastaRecord r;
      while (static_cast<int64_t>(proteins.size()) < o->proteins && reader.next(r)) {
        const std::size_t keep = std::min<std::size_t>(r.length, static_cast<std::size_t>(o->max_length - 1));
        proteins.emplace_back(r.tokens, r.tokens + keep);
        residues += static_cast<int64_t>(keep);
      }
    }
    spdlog::info("bench objective: {} proteins, {} residues after cropping to {}", core::format_count(static_cast<int64_t>(proteins.size())),
                 core::format_count(residues), o->max_length - 1);

    auto best_of = [&](auto&& pass) {
      double best = 1e300;
      for (int64_t p = 0; p < o->passes; ++p) {
        core::Stopwatch clock;
        pass();
        best = std::min(best, clock.seconds());
      }
      return best;
    };
    // Baseline: copy each protein into an example (what any objective at least does).
    data::Example e;
    uint64_t sink = 0;
    const double copy_s = best_of([&] {
      for (const auto& p : proteins) {
        e.input.assign(p.begin(), p.end());
        e.input.push_back(1);
        sink += e.input[e.input.size() / 2];
      }
    });

    std::cout << "\n| objective | tokens/s (1 core) | vs. copying the residues | target |\n|---|---|---|---|\n";
    std::printf("| (copy only, baseline) | %s | 1.00 | - |\n", core::format_si(residues / copy_s).c_str());
    for (const std::string& kind : data::objective_kinds().names()) {
      data::TaskConfig c;
      c.kind = *data::objective_kinds().parse(kind);
      c.mask_prob = {o->mask_prob};
      c.mean_span_length = o->mean_span_length;
      const auto objective = data::make_task_objective(c);
      const double s = best_of([&] {
        int64_t index = 0;
        for (const auto& p : proteins) {
          objective->apply(data::TokenView(p), data::objective_seed(1234, 0, index++), e);
          sink += e.target.size();
        }
      });
      const std::string span =
          c.kind == data::ObjectiveKind::T5Span ? ", mean span " + core::format_double(c.mean_span_length) : "";
      std::printf("| %s (mask_prob %s%s) | %s | %.2f | >= 1 M tokens/s with the loader |\n", kind.c_str(),
                  core::format_double(o->mask_prob).c_str(), span.c_str(),
                  core::format_si(residues / s).c_str(), copy_s / s);
    }
    std::cout.flush();
    spdlog::debug("checksum {}", sink);
    return 0;
  };
}

}  // namespace ankh::bench
