// `ankh info CONFIG [overrides]`: what a configuration costs before anything runs: parameters,
// training FLOPs per token at the configured lengths, and the training memory estimate.
// Everything comes from trainer/model/model_stats.h (formulas in docs/model.md).
#include <cstdio>
#include <iostream>
#include <sstream>

#include "core/strings.h"
#include "trainer/app/cli/command.h"
#include "trainer/app/cli/config_args.h"
#include "trainer/model/model_stats.h"
#include "trainer/optim/optimizer.h"
#include "trainer/weights/model_io.h"

namespace ankh::cli {

namespace {

// "objective ankh", or "a mixture of ankh and completion".
std::string objective_text(const data::ObjectiveConfig& objective) {
  std::vector<std::string> kinds;
  for (const auto& t : objective.tasks()) kinds.emplace_back(data::name_of(t.kind));
  if (kinds.size() == 1) return "objective " + kinds[0];
  return "a mixture of " + core::join(kinds, ", ");
}

std::string row(const std::string& label, const std::string& value, const std::string& note = {}) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, "  %-13s %16s", label.c_str(), value.c_str());
  return std::string(buffer) + (note.empty() ? "" : "   " + note) + "\n";
}

std::string percent(int64_t part, int64_t whole) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f %%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buffer;
}

std::string flops(double v) { return core::format_si(v) + "FLOP"; }

std::string describe(const trainer::RunConfig& c) {
  namespace m = ankh::model;
  const model::ModelConfig& model = c.model;
  std::ostringstream out;
  out << "model: d_model " << model.d_model << ", " << model.num_heads << " heads x " << model.d_kv << ", d_ff "
      << model.d_ff << ", " << model.encoder_layers << " encoder + " << model.decoder_layers << " decoder layers, "
      << m::name_of(model.activation) << ", " << (model.tie_embeddings ? "tied" : "untied") << " embeddings, vocab "
      << model.vocab_size << "\n\n";

  const m::ParamCounts p = m::count_parameters(model);
  out << "parameters\n"
      << row("total", core::format_count(p.total))
      << row("encoder", core::format_count(p.encoder), percent(p.encoder, p.total))
      << row("decoder", core::format_count(p.decoder), percent(p.decoder, p.total))
      << row("embeddings", core::format_count(p.embeddings), percent(p.embeddings, p.total))
      << row("lm_head", core::format_count(p.lm_head), model.tie_embeddings ? "tied to the embeddings" : "");

  const int64_t le = c.data.max_length;
  const int64_t ld = m::typical_decoder_length(c.objective, le);
  const m::ForwardFlops fwd = m::forward_flops(model, le, ld);
  const double per_token = m::train_flops_per_token(model, le, ld);
  const double per_sequence = per_token * static_cast<double>(le);
  out << "\ntraining FLOPs (matmuls incl. attention; forward + backward = 3 x forward)\n"
      << row("lengths", std::to_string(le) + " / " + std::to_string(ld),
             "encoder (data.max_length) / decoder (typical for " + objective_text(c.objective) + ")")
      << row("per token", flops(per_token), "per encoder token")
      << row("per sequence", flops(per_sequence),
             "encoder " + percent(static_cast<int64_t>(fwd.encoder), static_cast<int64_t>(fwd.total())) +
                 ", decoder " + percent(static_cast<int64_t>(fwd.decoder), static_cast<int64_t>(fwd.total())) +
                 ", lm_head " + percent(static_cast<int64_t>(fwd.lm_head), static_cast<int64_t>(fwd.total())))
      << row("per step", flops(per_sequence * static_cast<double>(c.train.global_batch)),
             "global batch " + std::to_string(c.train.global_batch));

  const bool momentum = c.optim.name == optim::OptimizerKind::Adafactor && c.optim.adafactor_beta1 > 0;
  const m::MemoryEstimate mem =
      m::estimate_memory(model, le, ld, static_cast<double>(optim::estimate_state_bytes(c.optim, weights::parameter_shapes(model))));
  const int64_t micro_tokens = c.train.micro_batch * le;
  out << "\ntraining memory per rank (estimate; fp32 master weights, "
      << (mem.activation_bytes_per_element == 2 ? "bf16" : "fp32") << " activations"
      << (model.activation_checkpointing ? ", activation checkpointing" : "") << ")\n"
      << row("weights", core::format_bytes(mem.weights))
      << row("gradients", core::format_bytes(mem.gradients))
      << row("optimizer", core::format_bytes(mem.optimizer_state), std::string(optim::name_of(c.optim.name)) + (momentum ? " with momentum" : ""))
      << row("activations", core::format_bytes(mem.activations_per_token) + "/tok",
             "x " + std::to_string(c.train.micro_batch) + " x " + std::to_string(le) + " tokens = " +
                 core::format_bytes(mem.activations_per_token * static_cast<double>(micro_tokens)))
      << row("total", core::format_bytes(mem.total(micro_tokens)), "micro-batch " + std::to_string(c.train.micro_batch));
  return out.str();
}

}  // namespace

Action setup_info(CLI::App& sub) {
  auto args = std::make_shared<ConfigArgs>();
  add_config_args(sub, *args);
  sub.footer("Lengths: the encoder length is data.max_length; the decoder length is the typical one for\n"
             "the objective (a mixture: the mean over its tasks by weight). Formulas: docs/model.md.");
  return [args]() {
    std::cout << describe(args->load());
    return 0;
  };
}

}  // namespace ankh::cli
