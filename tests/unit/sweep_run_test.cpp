// `ankh sweep` end to end on generated proteins and a tiny model: a run with a bad override fails
// while the others complete, the summary and plots are written, a second invocation skips the
// completed runs, a run whose max_steps grew resumes from its checkpoint, and the same through a
// real `mpirun -np 2`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <sstream>

#include "core/files.h"
#include "tests/support/test_support.h"
#include "tests/unit/data_test_util.h"

using ankh::testing::run_command;
using ankh::testing::ScratchDir;
using ankh::testing::write_text;
namespace fs = std::filesystem;

namespace {

int count_lines(const fs::path& file) {
  const std::string text = ankh::core::read_file(file);
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

bool have_matplotlib() { return run_command("/usr/bin/python3 -c 'import matplotlib'").exit_code == 0; }

class SweepRun : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(ankh::testing::ankh_binary())) << "ankh binary not built";
    ankh::testing::make_dataset(dir / "data", ankh::testing::random_proteins(200, 5, 20, 80), 0.1);
    write_text(dir / "base.yaml",
               "data:\n  dataset: " + (dir / "data").string() + "\n  max_length: 32\n"
               "model:\n  d_model: 32\n  num_heads: 2\n  d_kv: 16\n  d_ff: 64\n  encoder_layers: 1\n  decoder_layers: 1\n"
               "  relative_buckets: 8\n  relative_max_distance: 16\n  precision: fp32\n"
               "optim:\n  warmup_steps: 1\n"
               "train:\n  global_batch: 4\n  micro_batch: 2\n  max_steps: 4\n  eval_every: 2\n  eval_batches: 1\n"
               "  log_every: 1\n  peak_flops: 1.0e9\n"
               "checkpoint:\n  every_steps: 2\n  background: false\n");
  }
  std::string sweep(const std::string& args) {
    return ankh::testing::ankh_binary().string() + " sweep " + (dir / "sweep.yaml").string() + " --output " + (dir / "out").string() +
           " " + args;
  }
  ScratchDir dir{"ankh-sweep-run"};
};

}  // namespace

TEST_F(SweepRun, AFailedRunIsReportedTheOthersCompleteAndASecondInvocationSkipsThem) {
  write_text(dir / "sweep.yaml",
             "base: base.yaml\n"
             "variants:\n"
             "  - {data.dataset: " + (dir / "no-such-dataset").string() + "}\n"
             "  - {optim.lr: 0.001}\n"
             "  - {optim.lr: 0.003}\n");
  auto r = run_command(sweep("--np 1"));
  ASSERT_NE(r.exit_code, 0) << r.output;  // a run failed: the sweep says so in its exit status
  EXPECT_NE(r.output.find("[1/3] dataset-"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(" failed in "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[2/3] lr-0.001 (optim.lr=0.001) ... completed in"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[3/3] lr-0.003 (optim.lr=0.003) ... completed in"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1 run(s) or probe(s) of 3 run(s) failed: dataset-"), std::string::npos) << r.output;

  const fs::path out = dir / "out";
  const std::string csv = ankh::core::read_file(out / "summary.csv");
  EXPECT_NE(csv.find(",failed,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("lr-0.001,optim.lr=0.001,completed,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("lr-0.003,optim.lr=0.003,completed,"), std::string::npos) << csv;
  const std::string md = ankh::core::read_file(out / "summary.md");
  EXPECT_NE(md.find("3 runs: 2 completed, 1 failed."), std::string::npos) << md;
  EXPECT_NE(md.find("dataset directory not found"), std::string::npos) << md;  // the run's own error
  EXPECT_TRUE(fs::exists(out / "lr-0.001" / "run.yaml"));
  EXPECT_TRUE(fs::exists(out / "lr-0.001" / "sweep.log"));
  EXPECT_TRUE(fs::exists(out / "lr-0.001" / "checkpoints"));
  if (have_matplotlib()) {
    EXPECT_TRUE(fs::exists(out / "valid_loss.png")) << r.output;
    EXPECT_TRUE(fs::exists(out / "train_loss.png")) << r.output;
  }

  const int lines = count_lines(out / "lr-0.001" / "metrics.jsonl");
  r = run_command(sweep("--np 1"));
  EXPECT_NE(r.exit_code, 0) << r.output;  // the bad run is tried again and fails again
  EXPECT_NE(r.output.find("[2/3] lr-0.001: skipped"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[3/3] lr-0.003: skipped"), std::string::npos) << r.output;
  EXPECT_EQ(count_lines(out / "lr-0.001" / "metrics.jsonl"), lines);  // not run again
  EXPECT_NE(ankh::core::read_file(out / "summary.md").find("3 runs: 2 skipped, 1 failed."), std::string::npos);

  fs::remove(out / "summary.md");
  r = run_command(sweep("--np 1 --summary-only --no-plot"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 completed, 1 failed"), std::string::npos) << r.output;
  EXPECT_NE(ankh::core::read_file(out / "summary.md").find("dataset directory not found"), std::string::npos);

  r = run_command(sweep("--np 1 --dry-run"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("lr-0.003  (optim.lr=0.003)  complete: would skip"), std::string::npos) << r.output;
}

TEST_F(SweepRun, ARunWhoseMaxStepsGrewResumesFromItsCheckpoint) {
  write_text(dir / "sweep.yaml", "base: base.yaml\ngrid:\n  run.seed: [1, 2]\n");
  auto r = run_command(sweep("--np 1 --no-plot train.max_steps=2"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 completed"), std::string::npos) << r.output;

  r = run_command(sweep("--np 1 --no-plot"));  // max_steps 4 now: both continue from step 2
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[1/2] seed-1 (run.seed=1) ... completed in"), std::string::npos) << r.output;
  std::vector<int64_t> start_steps;
  std::string last_event;
  std::istringstream lines(ankh::core::read_file(dir / "out" / "seed-1" / "metrics.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    const auto record = nlohmann::json::parse(line);
    if (record["event"] == "start") start_steps.push_back(record["step"].get<int64_t>());
    last_event = record["event"].get<std::string>() + "@" + std::to_string(record["step"].get<int64_t>());
  }
  EXPECT_EQ(start_steps, (std::vector<int64_t>{0, 2}));  // the second session resumed at step 2
  EXPECT_EQ(last_event, "end@4");
}

TEST_F(SweepRun, RunsUnderMpirunWithTwoRanks) {
  if (run_command("command -v mpirun").exit_code != 0) GTEST_SKIP() << "mpirun not installed";
  write_text(dir / "sweep.yaml", "base: base.yaml\noverrides: {train.max_steps: 2}\ngrid:\n  objective.kind: [ankh, t5_span]\n");
  auto r = run_command(sweep("--np 2 --no-plot"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 rank(s) each via mpirun"), std::string::npos) << r.output;
  const std::string csv = ankh::core::read_file(dir / "out" / "summary.csv");
  EXPECT_NE(csv.find("kind-t5_span,objective.kind=t5_span,completed,"), std::string::npos) << csv;
  // world_size 2 in the run's own record
  EXPECT_NE(ankh::core::read_file(dir / "out" / "kind-ankh" / "metrics.jsonl").find("\"world_size\":2"),
            std::string::npos);
}

TEST_F(SweepRun, ABadKeyStopsTheWholeSweepBeforeAnythingRuns) {
  write_text(dir / "sweep.yaml", "base: base.yaml\ngrid:\n  optim.lr: [0.001, 0.003]\n  model.actvation: [relu]\n");
  const auto r = run_command(sweep("--np 1"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("model.actvation"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sweep.yaml:4"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("did you mean model.activation?"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "out"));  // nothing started, nothing written
}

TEST_F(SweepRun, EmitSlurmWritesAScriptThatPassesBashN) {
  write_text(dir / "sweep.yaml", "base: base.yaml\ngrid:\n  optim.lr: [0.001, 0.003]\n");
  const fs::path script = dir / "job.sbatch";
  auto r = run_command(sweep("--emit-slurm " + script.string() + " --nodes 1 --gpus-per-node 2"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 array task(s)"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(dir / "out" / "lr-0.001" / "run.yaml"));
  r = run_command("bash -n " + script.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // global_batch 4 does not split over 2 x 2 ranks x micro_batch 2: caught before writing anything.
  r = run_command(sweep("--emit-slurm " + (dir / "other.sbatch").string() + " --nodes 2 --gpus-per-node 2"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("4 is not a multiple of 4 ranks x train.micro_batch 2"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "other.sbatch"));
  // CPU nodes: no GPUs, so the ranks per node must be given.
  r = run_command(sweep("--emit-slurm " + (dir / "cpu.sbatch").string() + " --gpus-per-node 0"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--gpus-per-node 0 (CPU nodes) needs --ranks-per-node N"), std::string::npos) << r.output;
  r = run_command(sweep("--emit-slurm " + (dir / "cpu.sbatch").string() + " --gpus-per-node 0 --ranks-per-node 2"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string cpu = ankh::core::read_file(dir / "cpu.sbatch");
  EXPECT_NE(cpu.find("#SBATCH --ntasks-per-node=2\n"), std::string::npos) << cpu;
  EXPECT_EQ(cpu.find("--gpus-per-node"), std::string::npos) << cpu;
}
