// The precompiled header: LibTorch and the other heavy, stable headers used across ankh.
// Nothing of ankh's own goes here (it would rebuild every target on every change).
#pragma once
#include <torch/torch.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
