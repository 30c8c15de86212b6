#include "trainer/weights/hf_verify.h"

#include <chrono>
#include <string>
#include <vector>

#include "checkpoints/hf_export.h"
#include "checkpoints/t5_layout.h"
#include "core/error.h"
#include "core/strings.h"
#include "trainer/weights/model_io.h"

namespace ankh::weights {

namespace fs = std::filesystem;

namespace {

bool lists_encoder_only(const nlohmann::json& config) {
  if (!config.contains("architectures") || !config["architectures"].is_array()) return false;
  for (const auto& a : config["architectures"])
    if (a.is_string() && a.get<std::string>() == "T5EncoderModel") return true;
  return false;
}

}  // namespace

core::VerifyReport verify_hf_export(const fs::path& dir) {
  const auto start = std::chrono::steady_clock::now();
  core::VerifyReport report;
  report.kind = "Hugging Face export";
  checkpoints::HfModel model;
  try {
    model = checkpoints::read_hf_directory(dir);  // config.json parsed, every tensor read whole
  } catch (const core::Error& e) {
    report.add(e.where().empty() ? dir.string() : e.where(), e.what_text());
    return report;
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    ++report.files;
    report.bytes += entry.file_size(ec);
  }
  const std::string config_where = (dir / "config.json").string();
  const bool encoder_only = lists_encoder_only(model.config);
  try {
    const auto layout = checkpoints::t5_layout(model.config, encoder_only);
    for (const auto& line : checkpoints::check_t5_tensors(layout, checkpoints::shapes_of(model.tensors)))
      report.add(dir.string(), line + " (against config.json" + (encoder_only ? ", T5EncoderModel" : "") + ")");
  } catch (const core::Error& e) {
    report.add(config_where, e.what_text());
  }
  try {
    model_config_from_hf(model.config, model::ModelConfig{}, config_where);  // what `model.init_from` accepts
  } catch (const core::Error& e) {
    report.add(config_where, e.what_text());
  }
  for (const auto& [name, tensor] : model.tensors) {
    if (!tensor.is_floating_point()) continue;
    const int64_t bad = (~torch::isfinite(tensor)).sum().item<int64_t>();
    if (bad > 0) report.add(dir.string(), "tensor " + name + " has " + core::format_count(bad) + " non-finite values");
  }
  std::vector<std::string> task_tokens;  // config.json's, which tokenizer.json must number alike
  try {
    task_tokens = task_tokens_from_hf(model.config, config_where);
  } catch (const core::Error& e) {
    report.add(config_where, e.what_text());
  }
  try {
    check_hf_vocabulary(dir, task_tokens);
  } catch (const core::Error& e) {
    report.add(e.where().empty() ? dir.string() : e.where(), e.what_text());
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace ankh::weights
