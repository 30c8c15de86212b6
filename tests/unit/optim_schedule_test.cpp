// Learning-rate schedules at chosen steps, and the config checks of the optim section.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "tests/support/test_support.h"
#include "trainer/optim/schedule.h"
#include "trainer/run_config.h"

using namespace ankh::optim;
using ankh::trainer::load_run_config;
using ankh::trainer::RunConfig;

namespace {

OptimConfig schedule_config(const std::string& kind, int64_t warmup, double min_ratio = 0.0) {
  OptimConfig c;
  c.lr = 2.0;
  c.schedule = *schedules().parse(kind);
  c.warmup_steps = warmup;
  c.min_lr_ratio = min_ratio;
  return c;
}

}  // namespace

TEST(OptimSchedule, LinearWarmupIsOneBasedAndPeaksAtWarmup) {
  for (const char* kind : {"constant", "inverse_sqrt", "linear", "cosine"}) {
    const LrSchedule s(schedule_config(kind, 10), 110);
    EXPECT_DOUBLE_EQ(s.lr(1), 0.2) << kind;  // the first update already moves
    EXPECT_DOUBLE_EQ(s.lr(5), 1.0) << kind;
    EXPECT_DOUBLE_EQ(s.lr(10), 2.0) << kind;
    EXPECT_DOUBLE_EQ(s.lr(0), s.lr(1)) << kind;
    EXPECT_DOUBLE_EQ(s.peak(), 2.0);
  }
}

TEST(OptimSchedule, ConstantAfterWarmup) {
  const LrSchedule s(schedule_config("constant", 10), 110);
  EXPECT_DOUBLE_EQ(s.lr(11), 2.0);
  EXPECT_DOUBLE_EQ(s.lr(1000), 2.0);
}

TEST(OptimSchedule, InverseSqrtIsT5Form) {
  const LrSchedule s(schedule_config("inverse_sqrt", 10), 110);
  EXPECT_DOUBLE_EQ(s.lr(40), 1.0);  // 2 * sqrt(10/40)
  EXPECT_DOUBLE_EQ(s.lr(1000), 2.0 * std::sqrt(0.01));
  EXPECT_DOUBLE_EQ(s.lr(5000), 2.0 * std::sqrt(10.0 / 5000.0));  // no floor past max_steps
}

TEST(OptimSchedule, InverseSqrtWithoutWarmup) {
  const LrSchedule s(schedule_config("inverse_sqrt", 0), 100);
  EXPECT_DOUBLE_EQ(s.lr(1), 2.0);
  EXPECT_DOUBLE_EQ(s.lr(4), 1.0);
  EXPECT_DOUBLE_EQ(s.lr(100), 0.2);
}

TEST(OptimSchedule, LinearDecayToFloor) {
  const LrSchedule s(schedule_config("linear", 10, 0.1), 110);
  EXPECT_DOUBLE_EQ(s.lr(60), 2.0 * (0.1 + 0.9 * 0.5));
  EXPECT_DOUBLE_EQ(s.lr(35), 2.0 * (0.1 + 0.9 * 0.75));
  EXPECT_DOUBLE_EQ(s.lr(110), 0.2);
  EXPECT_DOUBLE_EQ(s.lr(500), 0.2);  // stays at the floor past max_steps
  const LrSchedule zero(schedule_config("linear", 0), 100);
  EXPECT_DOUBLE_EQ(zero.lr(1), 2.0 * 0.99);
  EXPECT_DOUBLE_EQ(zero.lr(100), 0.0);
}

TEST(OptimSchedule, CosineDecayToFloor) {
  const LrSchedule s(schedule_config("cosine", 10, 0.1), 130);
  EXPECT_DOUBLE_EQ(s.lr(70), 2.0 * (0.1 + 0.9 * 0.5));           // halfway
  EXPECT_NEAR(s.lr(50), 2.0 * (0.1 + 0.9 * 0.75), 1e-12);         // a third: (1 + cos(pi/3)) / 2
  EXPECT_NEAR(s.lr(130), 0.2, 1e-15);
  EXPECT_NEAR(s.lr(131), 0.2, 1e-15);
  const LrSchedule zero(schedule_config("cosine", 0), 100);
  EXPECT_NEAR(zero.lr(50), 1.0, 1e-12);
}

TEST(OptimSchedule, DecayNeedsWarmupBelowMaxSteps) {
  for (const char* kind : {"linear", "cosine"}) {
    try {
      LrSchedule s(schedule_config(kind, 100), 100);
      FAIL() << "expected a ConfigError for " << kind;
    } catch (const ankh::core::ConfigError& e) {
      ASSERT_EQ(e.issues().size(), 1u);
      EXPECT_EQ(e.issues()[0].key, "optim.warmup_steps");
    }
  }
  EXPECT_NO_THROW(LrSchedule(schedule_config("inverse_sqrt", 100), 20));  // no decay to reach
}

TEST(OptimConfigCheck, RelativeStepRequiresConstantScheduleWithoutWarmup) {
  ankh::testing::ScratchDir dir;
  ankh::testing::write_text(dir / "run.yaml", "optim:\n  name: adafactor\n  adafactor_relative_step: true\n");
  try {
    load_run_config(dir / "run.yaml", {});
    FAIL() << "expected a ConfigError";
  } catch (const ankh::core::ConfigError& e) {
    ASSERT_EQ(e.issues().size(), 1u);
    EXPECT_EQ(e.issues()[0].key, "optim.adafactor_relative_step");
  }
  const RunConfig ok = load_run_config(dir / "run.yaml", {"optim.schedule=constant", "optim.warmup_steps=0"});
  EXPECT_TRUE(ok.optim.adafactor_relative_step);
  EXPECT_DOUBLE_EQ(ok.optim.adafactor_beta1, 0.0);  // T5/Ankh: no momentum by default
}
