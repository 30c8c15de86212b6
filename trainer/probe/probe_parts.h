// The two kinds of probe behind prepare_probe (prepared_probe.h). Internal to ankh_probe.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainer/probe/prepared_probe.h"

namespace ankh::probe {

std::unique_ptr<PreparedProbe> prepare_go_transfer(const ProbeTask& task, const std::filesystem::path& work_dir);
std::unique_ptr<PreparedProbe> prepare_classification(const ProbeTask& task, const std::filesystem::path& work_dir);

}  // namespace ankh::probe
