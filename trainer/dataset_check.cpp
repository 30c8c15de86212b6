#include "trainer/dataset_check.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/strings.h"
#include "data/dataset_verify.h"

namespace ankh::trainer {

void verify_dataset_whole(const std::string& dir) {
  spdlog::info("data.verify full: reading every shard of {} once", dir);
  const core::VerifyReport report = data::verify_dataset(dir, core::VerifyOptions{});
  data::throw_problems(report);
  spdlog::info("data.verify full: {} files, {}B checked in {:.1f} s ({}B/s)", report.files,
               core::format_si(static_cast<double>(report.bytes)), report.seconds,
               core::format_si(static_cast<double>(report.bytes) / std::max(report.seconds, 1e-9)));
}

}  // namespace ankh::trainer
