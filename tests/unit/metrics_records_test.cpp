// The records of metrics.jsonl (trainer/metrics/records.h): what the trainer writes reads back
// field for field, NaN as null, events of a newer ankh skipped, a field of the wrong type named.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "tests/support/test_support.h"
#include "trainer/metrics/metrics_log.h"

using namespace ankh::metrics;
using ankh::testing::ScratchDir;
using ankh::testing::write_text;

TEST(MetricsRecords, EveryRecordRoundTrips) {
  ScratchDir dir;
  {
    MetricsLog log(dir / "metrics.jsonl", /*enabled=*/true);
    StartRecord start;
    start.world_size = 2;
    start.device = "cpu";
    start.parameters = 1234;
    start.peak_flops = 1e12;
    start.peak_source = "train.peak_flops";
    log.write(start);
    TrainRecord train;
    train.step = 10;
    train.loss = 2.5;
    train.mfu = kNaN;  // no timing yet
    log.write(train);
    log.write(ValidRecord{10, 640, 2.4, 2.8, 0.1, 11.0, 300, 200, 2.88, {}});
    log.write(CheckpointRecord{10, "runs/x/checkpoints/step-00000010", 4096, 0.1, 0.2, 0.01});
    ProbeRecord probe;
    probe.step = 10;
    probe.task = "go-mfo";
    probe.fmax = 0.4;
    probe.coverage = 0.99;
    log.write(probe);
    EndRecord end;
    end.step = 10;
    end.reason = EndReason::Signal;
    log.write(end);
  }
  const auto records = read_records(dir / "metrics.jsonl");
  ASSERT_EQ(records.size(), 6u);
  const auto& start = std::get<StartRecord>(records[0]);
  EXPECT_EQ(start.world_size, 2);
  EXPECT_EQ(start.peak_source, "train.peak_flops");
  EXPECT_TRUE(std::isnan(start.matmul_flops));
  const auto& train = std::get<TrainRecord>(records[1]);
  EXPECT_EQ(train.step, 10);
  EXPECT_DOUBLE_EQ(train.loss, 2.5);
  EXPECT_TRUE(std::isnan(train.mfu));
  EXPECT_EQ(std::get<ValidRecord>(records[2]).residue_tokens, 200);
  EXPECT_EQ(std::get<CheckpointRecord>(records[3]).bytes, 4096);
  const auto& probe = std::get<ProbeRecord>(records[4]);
  EXPECT_EQ(probe.task, "go-mfo");
  EXPECT_DOUBLE_EQ(probe.fmax, 0.4);
  EXPECT_TRUE(std::isnan(probe.accuracy));  // not a classification: null in the file
  EXPECT_EQ(to_json(records[4])["event"], "probe");
  EXPECT_EQ(std::get<EndRecord>(records[5]).reason, EndReason::Signal);
  EXPECT_EQ(to_json(records[5])["reason"], "signal");
  EXPECT_EQ(to_json(records[1])["event"], "train");
  EXPECT_NE(to_json(records[1]).dump().find("\"mfu\":null"), std::string::npos);
}

TEST(MetricsRecords, NewerEventsAreSkippedAndBadFieldsNamed) {
  ScratchDir dir;
  write_text(dir / "a.jsonl", "{\"event\":\"generate\",\"step\":3}\n{\"event\":\"train\",\"step\":4,\"loss\":1.5}\n");
  const auto records = read_records(dir / "a.jsonl");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(step_of(records[0]), 4);

  write_text(dir / "b.jsonl", "{\"event\":\"train\",\"step\":4}\n{\"event\":\"end\",\"step\":\"five\"}\n");
  const std::string e = ankh::testing::error_of([&] { read_records(dir / "b.jsonl"); });
  EXPECT_NE(e.find("b.jsonl:2"), std::string::npos) << e;
  EXPECT_NE(e.find("'step' is not an integer"), std::string::npos) << e;

  write_text(dir / "c.jsonl", "{\"event\":\"end\",\"step\":5,\"reason\":\"bored\"}\n");
  EXPECT_NE(ankh::testing::error_of([&] { read_records(dir / "c.jsonl"); }).find("max_steps, signal or exit_at_step"),
            std::string::npos);
}
