// Metrics per task of an objective mixture (objective.mixture): the loss's per-task sums against a
// direct computation (two tasks, ragged padding), the `tasks` field of train and valid records in
// and out of metrics.jsonl (absent for a single objective, malformed ones named), the window's
// per-task averages, and a tiny mixture trained in-process whose records' tasks add up to the
// records themselves.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <vector>

#include <torch/torch.h>

#include "core/error.h"
#include "core/files.h"
#include "data/vocab.h"
#include "tests/support/test_support.h"
#include "tests/unit/data_test_util.h"
#include "trainer/metrics/metrics_log.h"
#include "trainer/model/loss.h"
#include "trainer/parallel/mpi_env.h"
#include "trainer/step_stats.h"
#include "trainer/stop_signal.h"
#include "trainer/trainer.h"

namespace ankh {
namespace {

using metrics::kNaN;
using metrics::TaskRecord;
using testing::ScratchDir;

bool is_residue(int64_t label) { return label >= data::kFirstResidue && label < data::kFirstResidue + data::kNumResidues; }

// Logits [4, 6, 144] and labels with rows of 6, 3, 5 and 1 target tokens (the rest -100), some
// positions predicted right; samples 0 and 2 are task 1, samples 1 and 3 task 0.
struct LossCase {
  torch::Tensor logits, labels, tasks;
};

LossCase make_example(torch::ScalarType dtype) {
  torch::manual_seed(3);
  LossCase e;
  e.logits = (torch::randn({4, 6, 144}, torch::kDouble) * 2).to(dtype);
  e.labels = torch::randint(data::kFirstResidue, data::kFirstResidue + data::kNumResidues, {4, 6}, torch::kLong);
  e.labels.select(1, 1).fill_(data::sentinel(0));  // not a residue: in the loss, not in the residue loss
  const int64_t lengths[] = {6, 3, 5, 1};
  for (int64_t b = 0; b < 4; ++b) {
    e.labels[b][lengths[b] - 1] = data::kEos;
    if (lengths[b] < 6) e.labels[b].slice(0, lengths[b]).fill_(data::kIgnoreLabel);
    for (int64_t t = 0; t < lengths[b]; t += 2) e.logits[b][t][e.labels[b][t].item<int64_t>()].add_(10);  // right
  }
  e.tasks = torch::tensor(std::vector<int64_t>{1, 0, 1, 0});
  return e;
}

TEST(TaskLoss, SumsPerTaskMatchADirectComputation) {
  const LossCase e = make_example(torch::kDouble);
  const int64_t num_tasks = 3;  // task 2 has no sample: a row of zeros
  const model::LossTerms terms = model::loss_terms(e.logits, e.labels, e.tasks, num_tasks);
  ASSERT_EQ(terms.task_sums.sizes(), (std::vector<int64_t>{num_tasks, model::kNumTaskSums}));
  EXPECT_EQ(terms.task_sums.scalar_type(), torch::kDouble);

  // By hand: -log_softmax at the label, per sample, added to its task's row.
  std::vector<std::array<double, model::kNumTaskSums>> expected(num_tasks, {0, 0, 0, 0, 0});
  const torch::Tensor log_p = torch::log_softmax(e.logits, -1);
  for (int64_t b = 0; b < 4; ++b)
    for (int64_t t = 0; t < 6; ++t) {
      const int64_t label = e.labels[b][t].item<int64_t>();
      if (label == data::kIgnoreLabel) continue;
      auto& row = expected[static_cast<std::size_t>(e.tasks[b].item<int64_t>())];
      const double loss = -log_p[b][t][label].item<double>();
      row[model::kTaskLossSum] += loss;
      row[model::kTaskTargetTokens] += 1;
      if (!is_residue(label)) continue;
      row[model::kTaskResidueLossSum] += loss;
      row[model::kTaskResidueCount] += 1;
      row[model::kTaskResidueCorrect] += e.logits[b][t].argmax().item<int64_t>() == label ? 1 : 0;
    }
  EXPECT_EQ(expected[1][model::kTaskTargetTokens], 11);  // rows of 6 and 5: the padding is not counted
  EXPECT_EQ(expected[0][model::kTaskTargetTokens], 4);
  EXPECT_GT(expected[0][model::kTaskResidueCorrect] + expected[1][model::kTaskResidueCorrect], 0);
  for (int64_t task = 0; task < num_tasks; ++task)
    for (int64_t k = 0; k < model::kNumTaskSums; ++k)
      EXPECT_NEAR(terms.task_sums[task][k].item<double>(), expected[static_cast<std::size_t>(task)][static_cast<std::size_t>(k)], 1e-12)
          << "task " << task << " sum " << k;

  // The tasks together are the whole micro-batch.
  const torch::Tensor total = terms.task_sums.sum(0);
  EXPECT_NEAR(total[model::kTaskLossSum].item<double>(), terms.loss_sum.item<double>(), 1e-12);
  EXPECT_NEAR(total[model::kTaskResidueLossSum].item<double>(), terms.residue_loss_sum.item<double>(), 1e-12);
  EXPECT_EQ(total[model::kTaskTargetTokens].item<double>(), e.labels.ne(data::kIgnoreLabel).sum().item<double>());
  EXPECT_EQ(total[model::kTaskResidueCount].item<double>(), terms.residue_count.item<double>());
  EXPECT_EQ(total[model::kTaskResidueCorrect].item<double>(), terms.residue_correct.item<double>());

  // Tasks that do not fit the batch are refused.
  EXPECT_THROW(model::loss_terms(e.logits, e.labels, torch::zeros({3}, torch::kLong), 2), core::InputError);
  EXPECT_THROW(model::loss_terms(e.logits, e.labels, torch::Tensor(), 2), core::InputError);
}

TEST(TaskLoss, ScalarSumsAndGradientAreThoseWithoutTasks) {
  // fp32, as the trainer runs: the per-task overload must not change a bit of the single-objective path.
  const LossCase e = make_example(torch::kFloat);
  const torch::Tensor a = e.logits.clone().requires_grad_(true), b = e.logits.clone().requires_grad_(true);
  const model::LossTerms plain = model::loss_terms(a, e.labels);
  const model::LossTerms with = model::loss_terms(b, e.labels, e.tasks, 2);
  EXPECT_FALSE(plain.task_sums.defined());
  EXPECT_TRUE(torch::equal(plain.loss_sum, with.loss_sum));
  EXPECT_TRUE(torch::equal(plain.residue_loss_sum, with.residue_loss_sum));
  EXPECT_TRUE(torch::equal(plain.residue_count, with.residue_count));
  EXPECT_TRUE(torch::equal(plain.residue_correct, with.residue_correct));
  EXPECT_FALSE(with.task_sums.requires_grad());
  plain.loss_sum.backward();
  with.loss_sum.backward();
  EXPECT_TRUE(torch::equal(a.grad(), b.grad()));
  // float64 sums of the fp32 per-token losses: equal to the fp32 sum to its rounding.
  EXPECT_NEAR(with.task_sums.sum(0)[model::kTaskLossSum].item<double>(), with.loss_sum.item<double>(),
              1e-5 * with.loss_sum.item<double>());
}

metrics::TrainRecord train_record_with_tasks() {
  metrics::TrainRecord r;
  r.step = 20;
  r.loss = 2.25;
  r.accuracy = 0.3;
  r.tasks = {TaskRecord{"ankh", 2.5, 2.75, 0.375, 100, 80}, TaskRecord{"full_reconstruction", 1.25, kNaN, kNaN, 20, 0}};
  return r;
}

TEST(TaskRecords, RoundTripThroughMetricsJsonl) {
  ScratchDir dir;
  metrics::ValidRecord valid{20, 640, 2.4, 2.8, 0.1, 11.0, 300, 200, 2.88, {}};
  valid.tasks = {TaskRecord{"ankh", 2.6, 2.9, 0.125, 200, 150}, TaskRecord{"ankh", 2.0, 2.5, 0.0625, 100, 50}};
  metrics::TrainRecord single;
  single.step = 21;
  single.loss = 2.0;
  {
    metrics::MetricsLog log(dir / "metrics.jsonl", /*enabled=*/true);
    log.write(train_record_with_tasks());
    log.write(valid);
    log.write(single);
    log.write(metrics::ValidRecord{21, 700, 2.3, 2.7, 0.2, 10.0, 300, 200, 2.88, {}});
  }
  const auto records = metrics::read_records(dir / "metrics.jsonl");
  ASSERT_EQ(records.size(), 4u);

  const auto& train = std::get<metrics::TrainRecord>(records[0]);
  ASSERT_EQ(train.tasks.size(), 2u);
  EXPECT_EQ(train.tasks[0].kind, "ankh");
  EXPECT_EQ(train.tasks[0].loss, 2.5);
  EXPECT_EQ(train.tasks[0].residue_loss, 2.75);
  EXPECT_EQ(train.tasks[0].accuracy, 0.375);
  EXPECT_EQ(train.tasks[0].target_tokens, 100);
  EXPECT_EQ(train.tasks[0].residue_tokens, 80);
  EXPECT_EQ(train.tasks[1].kind, "full_reconstruction");
  EXPECT_EQ(train.tasks[1].loss, 1.25);
  EXPECT_TRUE(std::isnan(train.tasks[1].residue_loss));  // null in the file
  EXPECT_TRUE(std::isnan(train.tasks[1].accuracy));
  EXPECT_EQ(train.tasks[1].residue_tokens, 0);

  const auto& v = std::get<metrics::ValidRecord>(records[1]);
  ASSERT_EQ(v.tasks.size(), 2u);
  EXPECT_EQ(v.tasks[1].kind, "ankh");  // two tasks of one kind: mixture order tells them apart
  EXPECT_EQ(v.tasks[1].accuracy, 0.0625);
  EXPECT_EQ(v.tasks[0].target_tokens, 200);

  EXPECT_TRUE(std::get<metrics::TrainRecord>(records[2]).tasks.empty());
  EXPECT_TRUE(std::get<metrics::ValidRecord>(records[3]).tasks.empty());

  // In the file: a list of objects with NaN as null for a mixture, no key at all otherwise.
  const auto with = metrics::to_json(records[0]);
  ASSERT_TRUE(with.contains("tasks"));
  ASSERT_TRUE(with["tasks"].is_array());
  EXPECT_EQ(with["tasks"][1]["kind"], "full_reconstruction");
  EXPECT_NE(with.dump().find("\"accuracy\":null,\"kind\":\"full_reconstruction\""), std::string::npos) << with.dump();
  EXPECT_EQ(with["tasks"][0]["target_tokens"], 100);
  EXPECT_FALSE(metrics::to_json(records[2]).contains("tasks"));
  EXPECT_FALSE(metrics::to_json(records[3]).contains("tasks"));
  const std::string text = core::read_file(dir / "metrics.jsonl");
  EXPECT_NE(text.find("\"tasks\":[{\"accuracy\":0.375,"), std::string::npos) << text;
  EXPECT_EQ(text.find("\"tasks\"", text.find("\"step\":21")), std::string::npos) << text;  // the single-objective lines
}

TEST(TaskRecords, MalformedTasksAreNamed) {
  ScratchDir dir;
  const auto error_for = [&](const std::string& tasks) {
    testing::write_text(dir / "m.jsonl", "{\"event\":\"train\",\"step\":4}\n{\"event\":\"valid\",\"step\":4,\"tasks\":" + tasks + "}\n");
    return testing::error_of<core::InputError>([&] { metrics::read_records(dir / "m.jsonl"); });
  };
  std::string e = error_for("3");
  EXPECT_NE(e.find("m.jsonl:2"), std::string::npos) << e;
  EXPECT_NE(e.find("'tasks' is not a list of task objects"), std::string::npos) << e;
  e = error_for("[{\"kind\":\"ankh\"}, 7]");
  EXPECT_NE(e.find("'tasks[1]' is not a task object"), std::string::npos) << e;
  e = error_for("[{\"kind\":\"ankh\",\"loss\":\"low\"}]");
  EXPECT_NE(e.find("'tasks[0].loss' is not a number"), std::string::npos) << e;
  e = error_for("[{\"kind\":5}]");
  EXPECT_NE(e.find("'tasks[0].kind' is not a string"), std::string::npos) << e;
  // An empty list and unknown fields of a task read fine.
  testing::write_text(dir / "ok.jsonl",
                      "{\"event\":\"train\",\"step\":4,\"tasks\":[]}\n"
                      "{\"event\":\"train\",\"step\":5,\"tasks\":[{\"kind\":\"ankh\",\"loss\":null,\"new\":1}]}\n");
  const auto records = metrics::read_records(dir / "ok.jsonl");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_TRUE(std::get<metrics::TrainRecord>(records[0]).tasks.empty());
  ASSERT_EQ(std::get<metrics::TrainRecord>(records[1]).tasks.size(), 1u);
  EXPECT_TRUE(std::isnan(std::get<metrics::TrainRecord>(records[1]).tasks[0].loss));
}

TEST(TaskWindow, AveragesPerTaskOverTheWindowsSteps) {
  using namespace trainer;
  const std::vector<std::string> kinds = {"ankh", "full_reconstruction"};
  trainer::Window w;
  StepStats a(kNumStats + 2 * model::kNumTaskSums, 0.0), b = a;
  a[kLossSum] = 30, a[kTargetTokens] = 12, a[kResidueLossSum] = 20, a[kResidueCount] = 8, a[kResidueCorrect] = 2;
  // task 0: loss 20 over 8 tokens, residues 12 over 4 (1 right); task 1: the rest, 10 over 4, residues 8 over 4 (1 right).
  const double t0a[] = {20, 8, 12, 4, 1}, t1a[] = {10, 4, 8, 4, 1};
  std::copy(std::begin(t0a), std::end(t0a), a.begin() + kNumStats);
  std::copy(std::begin(t1a), std::end(t1a), a.begin() + kNumStats + model::kNumTaskSums);
  b[kLossSum] = 6, b[kTargetTokens] = 4, b[kResidueLossSum] = 0, b[kResidueCount] = 0;  // task 1 only, no residue
  const double t1b[] = {6, 4, 0, 0, 0};
  std::copy(std::begin(t1b), std::end(t1b), b.begin() + kNumStats + model::kNumTaskSums);
  w.add(a, 1.0);
  w.add(b, 1.0);
  const metrics::TrainRecord r = w.record(1e9, kinds);
  EXPECT_DOUBLE_EQ(r.loss, 36.0 / 16);
  ASSERT_EQ(r.tasks.size(), 2u);
  EXPECT_EQ(r.tasks[0].kind, "ankh");
  EXPECT_DOUBLE_EQ(r.tasks[0].loss, 20.0 / 8);
  EXPECT_DOUBLE_EQ(r.tasks[0].residue_loss, 3.0);
  EXPECT_DOUBLE_EQ(r.tasks[0].accuracy, 0.25);
  EXPECT_DOUBLE_EQ(r.tasks[1].loss, 16.0 / 8);
  EXPECT_DOUBLE_EQ(r.tasks[1].residue_loss, 2.0);
  EXPECT_EQ(r.tasks[1].target_tokens, 8);
  EXPECT_EQ(r.tasks[1].residue_tokens, 4);
  EXPECT_EQ(task_summary(r.tasks), " | ankh 2.50/0.25 full_reconstruction 2.00/0.25");

  // A task with nothing counted: NaN (null in the file), not 0.
  const double none[model::kNumTaskSums] = {0, 0, 0, 0, 0};
  EXPECT_TRUE(std::isnan(task_records(none, {"ankh"})[0].loss));

  // A single objective: no tasks, and nothing in the console line.
  trainer::Window single;
  single.add(StepStats(kNumStats, 1.0), 1.0);
  EXPECT_TRUE(single.record(1e9).tasks.empty());
  EXPECT_EQ(task_summary({}), "");
  data::ObjectiveConfig objective;
  EXPECT_TRUE(mixture_task_kinds(objective).empty());
  objective.mixture.resize(2);
  objective.mixture[1].kind = data::ObjectiveKind::FullReconstruction;
  EXPECT_EQ(mixture_task_kinds(objective), kinds);
}

// A tiny model trained in-process for 4 steps on a mixture of ankh and full_reconstruction
// (validation at the end), then on the single objective: the mixture's train and valid records
// carry both tasks, whose token-weighted averages are the records' own figures; the single
// objective's records have no tasks.
TEST(TaskMetricsTraining, MixtureRecordsAddUpToTheRecord) {
  ScratchDir dir("ankh-task-metrics");
  testing::make_dataset(dir / "ds", testing::random_proteins(300, 17, 20, 120), 0.15);
  const std::vector<std::string> overrides = {
      "data.dataset=" + (dir / "ds").string(), "data.max_length=64", "train.max_steps=4", "train.log_every=2",
      "train.eval_every=4", "train.eval_batches=2", "train.global_batch=8", "train.micro_batch=4",
      "train.peak_flops=1e9", "optim.warmup_steps=2", "checkpoint.every_minutes=0", "checkpoint.every_steps=100"};
  trainer::RunConfig mixture = testing::tiny_run_config(dir / "mixture", overrides);
  data::TaskConfig t0, t1;
  t0.kind = data::ObjectiveKind::Ankh;
  t0.weight = 1;
  t1.kind = data::ObjectiveKind::FullReconstruction;
  t1.weight = 1;
  mixture.objective.mixture = {t0, t1};
  const trainer::RunConfig single = testing::tiny_run_config(dir / "single", overrides);

  parallel::MpiSession mpi;  // a singleton: one process, no mpirun
  const trainer::StopSignal stop;
  trainer::Trainer(mixture, mpi).run(stop);
  trainer::Trainer(single, mpi).run(stop);

  // Token-weighted averages of the tasks against the record: the record's totals are fp32 sums
  // per micro-batch, the tasks' float64 sums of the same per-token losses, so the losses agree
  // to fp32 rounding; the accuracy is a ratio of exact counts.
  double worst = 0;  // the largest relative difference of a loss, printed
  const auto check = [&worst](double loss, double residue_loss, double accuracy, const std::vector<TaskRecord>& tasks,
                        int64_t step, const char* event) {
    ASSERT_EQ(tasks.size(), 2u) << event << " at step " << step;
    EXPECT_EQ(tasks[0].kind, "ankh");
    EXPECT_EQ(tasks[1].kind, "full_reconstruction");
    double tokens = 0, residues = 0, loss_sum = 0, residue_sum = 0, correct = 0;
    for (const auto& t : tasks) {
      EXPECT_GT(t.target_tokens, 0) << event << " at step " << step << ": " << t.kind;
      EXPECT_GT(t.residue_tokens, 0) << event << " at step " << step << ": " << t.kind;
      tokens += static_cast<double>(t.target_tokens);
      residues += static_cast<double>(t.residue_tokens);
      loss_sum += t.loss * static_cast<double>(t.target_tokens);
      residue_sum += t.residue_loss * static_cast<double>(t.residue_tokens);
      correct += t.accuracy * static_cast<double>(t.residue_tokens);
    }
    worst = std::max({worst, std::abs(loss_sum / tokens / loss - 1), std::abs(residue_sum / residues / residue_loss - 1)});
    EXPECT_NEAR(loss_sum / tokens, loss, 1e-6 * loss) << event << " at step " << step;
    EXPECT_NEAR(residue_sum / residues, residue_loss, 1e-6 * residue_loss) << event << " at step " << step;
    EXPECT_NEAR(correct / residues, accuracy, 1e-12) << event << " at step " << step;
    // Full reconstruction predicts every residue, ankh only the masked ones.
    EXPECT_GT(tasks[1].residue_tokens, tasks[0].residue_tokens) << event << " at step " << step;
  };
  int trains = 0, valids = 0;
  for (const auto& record : metrics::read_records(dir / "mixture" / "metrics.jsonl")) {
    if (const auto* t = std::get_if<metrics::TrainRecord>(&record)) {
      ++trains;
      check(t->loss, t->residue_loss, t->accuracy, t->tasks, t->step, "train");
    } else if (const auto* v = std::get_if<metrics::ValidRecord>(&record)) {
      ++valids;
      check(v->loss, v->residue_loss, v->accuracy, v->tasks, v->step, "valid");
      int64_t tokens = 0, residues = 0;
      for (const auto& task : v->tasks) tokens += task.target_tokens, residues += task.residue_tokens;
      EXPECT_EQ(tokens, v->target_tokens);
      EXPECT_EQ(residues, v->residue_tokens);
    }
  }
  EXPECT_EQ(trains, 2);
  EXPECT_EQ(valids, 1);
  std::printf("tasks' token-weighted losses against the records': largest relative difference %.2e\n", worst);

  const std::string text = core::read_file(dir / "single" / "metrics.jsonl");
  EXPECT_NE(text.find("\"event\":\"train\""), std::string::npos);
  EXPECT_NE(text.find("\"event\":\"valid\""), std::string::npos);
  EXPECT_EQ(text.find("\"tasks\""), std::string::npos) << text;
}

}  // namespace
}  // namespace ankh
