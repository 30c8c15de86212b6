#include "trainer/evaluator.h"

#include <cmath>

#include <spdlog/spdlog.h>

#include "core/strings.h"
#include "data/composition.h"
#include "data/loader.h"
#include "data/vocab.h"
#include "trainer/batch_transfer.h"
#include "trainer/step_stats.h"

namespace ankh::trainer {

metrics::ValidRecord EvalResult::record(int64_t step, int64_t tokens, double entropy) const {
  metrics::ValidRecord r;
  r.step = step;
  r.tokens = tokens;
  r.loss = loss;
  r.residue_loss = residue_loss;
  r.accuracy = accuracy;
  r.perplexity = perplexity;
  r.target_tokens = target_tokens;
  r.residue_tokens = residue_tokens;
  r.unigram_entropy = entropy;
  r.tasks = tasks;
  return r;
}

EvalResult evaluate(model::T5Model& model, const std::shared_ptr<const data::Dataset>& dataset,
                    const RunConfig& config, parallel::Communicator& comm, const torch::Device& device) {
  data::Loader loader(dataset, loader_options(config, data::Split::Valid, comm.rank(), comm.size()));

  const auto autocast = model::autocast_for(config.model, device);
  // [loss_sum, residue_loss_sum, residue_count, residue_correct, target_tokens], then for a
  // mixture model::kNumTaskSums per task, in float64 so that counts stay exact: one all-reduce.
  const auto kinds = mixture_task_kinds(config.objective);
  const auto num_tasks = static_cast<int64_t>(kinds.size());
  auto sums = torch::zeros({5 + num_tasks * model::kNumTaskSums},
                           torch::TensorOptions().dtype(torch::kFloat64).device(device));
  {
    torch::NoGradGuard no_grad;
    model->eval();
    for (int64_t s = 0; s < loader.total_steps(); ++s) {
      for (auto& batch : loader.next_step()) {
        const data::Batch on_device = to_device(batch, device);
        torch::Tensor logits;
        {
          model::AutocastGuard guard(autocast);
          logits = model->forward(on_device);
        }
        const auto& labels = on_device.labels;
        const auto terms = num_tasks > 0 ? model::loss_terms(logits, labels, on_device.tasks, num_tasks)
                                         : model::loss_terms(logits, labels);
        sums.slice(0, 0, 5).add_(torch::stack(
            {terms.loss_sum.to(torch::kFloat64), terms.residue_loss_sum.to(torch::kFloat64),
             terms.residue_count.to(torch::kFloat64), terms.residue_correct.to(torch::kFloat64),
             labels.ne(data::kIgnoreLabel).sum().to(torch::kFloat64)}));
        if (num_tasks > 0) sums.slice(0, 5).add_(terms.task_sums.reshape({-1}));
      }
    }
    model->train();
  }
  comm.all_reduce(sums);
  const auto s = sums.cpu();
  const auto* v = s.data_ptr<double>();
  EvalResult r;
  r.target_tokens = static_cast<int64_t>(v[4]);
  r.residue_tokens = static_cast<int64_t>(v[2]);
  r.loss = r.target_tokens ? v[0] / v[4] : std::nan("");
  r.residue_loss = r.residue_tokens ? v[1] / v[2] : std::nan("");
  r.accuracy = r.residue_tokens ? v[3] / v[2] : std::nan("");
  r.perplexity = std::exp(r.loss);
  r.tasks = task_records(v + 5, kinds);
  return r;
}

double unigram_entropy(const data::Dataset& dataset) {
  if (const auto composition = dataset.manifest().composition(data::Split::Train)) return composition->unigram_entropy();
  constexpr int64_t kSample = 10000;
  const int64_t n = dataset.size(data::Split::Train);
  const int64_t stride = std::max<int64_t>(1, n / kSample);
  data::Composition sample;
  for (int64_t i = 0; i < n; i += stride) {
    const auto tokens = dataset.tokens(data::Split::Train, i);
    data::count_tokens(tokens.data(), tokens.size(), sample);
  }
  spdlog::info("the manifest of {} records no residue composition (an older ankh wrote it): the unigram entropy is "
               "estimated from {} sequences; re-run `ankh preprocess` to record it",
               dataset.dir().string(), core::format_count((n + stride - 1) / stride));
  return sample.unigram_entropy();
}

}  // namespace ankh::trainer
