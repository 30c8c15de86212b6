// Sweep summaries from synthetic metrics.jsonl files: what counts as complete, the numbers taken
// from which records, resumed runs, torn and missing logs, CSV and Markdown output.
#include <gtest/gtest.h>

#include "tests/support/test_support.h"
#include "trainer/app/sweep/sweep_summary.h"

using namespace ankh::sweep;
using ankh::metrics::is_complete;
using ankh::metrics::read_run_summary;
using ankh::metrics::RunSummary;
using ankh::testing::ScratchDir;
using ankh::testing::write_text;

namespace {

const char* kFinished =
    R"({"event":"start","step":0,"world_size":2,"parameters":4534784,"device":"cpu"}
{"event":"train","step":10,"tokens":1000,"loss":5.0,"accuracy":0.1,"tokens_per_s":900}
{"event":"valid","step":10,"tokens":1000,"loss":4.0,"residue_loss":4.2,"accuracy":0.10}
{"event":"train","step":20,"tokens":2000,"loss":4.5,"accuracy":0.1,"tokens_per_s":950}
{"event":"valid","step":20,"tokens":2000,"loss":3.5,"residue_loss":3.7,"accuracy":0.15}
{"event":"train","step":30,"tokens":3000,"loss":4.4,"accuracy":0.1,"tokens_per_s":950}
{"event":"valid","step":30,"tokens":3000,"loss":3.6,"residue_loss":3.8,"accuracy":0.14}
{"event":"end","step":30,"tokens":3000,"reason":"max_steps","best_valid_loss":3.5,"train_seconds":3.0}
)";

}  // namespace

TEST(SweepSummary, ReadsTheNumbersOfAFinishedRun) {
  ScratchDir dir;
  write_text(dir / "metrics.jsonl", kFinished);
  const RunSummary m = read_run_summary(dir / "metrics.jsonl");
  ASSERT_TRUE(m.found);
  EXPECT_EQ(*m.parameters, 4534784);
  EXPECT_EQ(*m.world_size, 2);
  EXPECT_EQ(m.steps, 30);
  EXPECT_EQ(m.tokens, 3000);
  EXPECT_DOUBLE_EQ(*m.final_valid_loss, 3.6);
  EXPECT_DOUBLE_EQ(*m.best_valid_loss, 3.5);
  EXPECT_DOUBLE_EQ(*m.valid_accuracy, 0.14);  // at the last validation
  EXPECT_DOUBLE_EQ(*m.final_train_loss, 4.4);
  EXPECT_DOUBLE_EQ(*m.tokens_per_s, 1000.0);  // tokens / train_seconds
  EXPECT_TRUE(is_complete(m, 30));
  EXPECT_FALSE(is_complete(m, 40));  // max_steps raised since: the run continues
}

TEST(SweepSummary, InterruptedResumedMissingAndTornRuns) {
  ScratchDir dir;
  // Stopped by SIGTERM at step 20: not complete.
  write_text(dir / "a" / "metrics.jsonl",
             R"({"event":"start","step":0,"world_size":1,"parameters":10}
{"event":"train","step":20,"tokens":2000,"loss":4.5}
{"event":"end","step":20,"tokens":2000,"reason":"signal","best_valid_loss":-1,"train_seconds":2.0}
)");
  RunSummary m = read_run_summary(dir / "a" / "metrics.jsonl");
  EXPECT_EQ(m.end->reason, ankh::metrics::EndReason::Signal);
  EXPECT_FALSE(is_complete(m, 30));
  EXPECT_FALSE(m.best_valid_loss.has_value());

  // Resumed after that end record and still training: the old end record no longer counts.
  write_text(dir / "b" / "metrics.jsonl",
             R"({"event":"end","step":20,"tokens":2000,"reason":"max_steps","train_seconds":2.0}
{"event":"start","step":20,"world_size":1,"parameters":10}
{"event":"train","step":25,"tokens":2500,"loss":4.2}
)");
  m = read_run_summary(dir / "b" / "metrics.jsonl");
  EXPECT_FALSE(m.end.has_value());
  EXPECT_FALSE(is_complete(m, 20));
  EXPECT_EQ(m.steps, 25);

  // Never started.
  m = read_run_summary(dir / "c" / "metrics.jsonl");
  EXPECT_FALSE(m.found);
  EXPECT_TRUE(m.error.empty());

  // A crash mid-line: the torn last line is ignored, the rest is read.
  write_text(dir / "d" / "metrics.jsonl", std::string(R"({"event":"train","step":5,"tokens":500,"loss":6.0})") +
                                              "\n{\"event\":\"tra");
  m = read_run_summary(dir / "d" / "metrics.jsonl");
  EXPECT_TRUE(m.found);
  EXPECT_EQ(m.steps, 5);

  // Garbage in the middle: reported with file:line, not thrown (the other runs still summarise).
  write_text(dir / "e" / "metrics.jsonl", "{\"event\":\"train\",\"step\":1}\nnot json\n{\"event\":\"train\",\"step\":2}\n");
  m = read_run_summary(dir / "e" / "metrics.jsonl");
  EXPECT_FALSE(m.found);
  EXPECT_NE(m.error.find("metrics.jsonl:2"), std::string::npos) << m.error;
}

TEST(SweepSummary, CsvAndMarkdown) {
  ScratchDir dir;
  write_text(dir / "metrics.jsonl", kFinished);
  RunRow done;
  done.name = "mask_prob-0.1";
  done.overrides = "objective.mask_prob=0.1";
  done.status = RunStatus::Completed;
  done.max_steps = 30;
  done.wall_s = 61.25;
  done.metrics = read_run_summary(dir / "metrics.jsonl");
  RunRow failed;
  failed.name = "dataset-missing";
  failed.overrides = "data.dataset=missing";
  failed.status = RunStatus::Failed;
  failed.max_steps = 30;
  failed.detail = "exit status 1: dataset directory not found, \"missing\"";

  const std::string csv = summary_csv({done, failed});
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "run,overrides,status,parameters,world_size,steps,max_steps,tokens,final_train_loss,final_valid_loss,"
            "best_valid_loss,valid_accuracy,tokens_per_s,wall_s,detail");
  EXPECT_NE(csv.find("mask_prob-0.1,objective.mask_prob=0.1,completed,4534784,2,30,30,3000,4.400000,3.600000,3.500000,"
                     "0.140000,1000.0,61.2,\n"),
            std::string::npos)
      << csv;
  // A detail with a comma and quotes is one quoted CSV field.
  EXPECT_NE(csv.find("failed,,,0,30,0,,,,,,,\"exit status 1: dataset directory not found, \"\"missing\"\"\"\n"),
            std::string::npos)
      << csv;

  const std::string md = summary_markdown("configs/sweeps/x.yaml", "ankh sweep configs/sweeps/x.yaml --np 2",
                                          {done, failed}, {"/out/valid_loss.png"});
  EXPECT_NE(md.find("2 runs: 1 completed, 1 failed."), std::string::npos) << md;
  EXPECT_NE(md.find("| mask_prob-0.1 | objective.mask_prob=0.1 | 4,534,784 | 30 | 3,000 | 3.6000 | 3.5000 | 0.1400 | 1000 | completed |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| dataset-missing | data.dataset=missing |"), std::string::npos) << md;
  EXPECT_NE(md.find("Lowest validation loss: **mask_prob-0.1**"), std::string::npos) << md;
  EXPECT_NE(md.find("- `dataset-missing` (failed): exit status 1"), std::string::npos) << md;
  EXPECT_NE(md.find("![valid_loss](valid_loss.png)"), std::string::npos) << md;
}
