// Learning-rate schedules (nabla/train/schedule.h): their values at given iterations,
// their text, and bad text.
#include "nabla/train/schedule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "nabla/core/tensor.h"
#include "test_util.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;

TEST(LrSchedule, StepHalvesEveryTwoEpochs) {
  const LrSchedule s = parse_lr_schedule("step:2:0.5");
  // 10 iterations an epoch: iterations 0-19 at the base, 20-39 at half, 40- at a quarter
  EXPECT_EQ(s.rate(0.1, 0, 10, 100), 0.1);
  EXPECT_EQ(s.rate(0.1, 19, 10, 100), 0.1);
  EXPECT_EQ(s.rate(0.1, 20, 10, 100), 0.05);
  EXPECT_EQ(s.rate(0.1, 45, 10, 100), 0.025);
  EXPECT_EQ(s.text(), "step:2:0.5");
}

TEST(LrSchedule, CosineFromTheBaseToZero) {
  const LrSchedule s = parse_lr_schedule("cosine");
  EXPECT_EQ(s.rate(0.2, 0, 10, 100), 0.2);
  EXPECT_NEAR(s.rate(0.2, 50, 10, 100), 0.1, 1e-15);                   // half way: half
  EXPECT_NEAR(s.rate(0.2, 25, 10, 100), 0.1 * (1 + std::sqrt(0.5)), 1e-15);  // cos(pi/4)
  EXPECT_NEAR(s.rate(0.2, 100, 10, 100), 0.0, 1e-15);
}

TEST(LrSchedule, WarmupRisesLinearlyThenTheSchedule) {
  const LrSchedule s = parse_lr_schedule("cosine", 4);
  EXPECT_EQ(s.rate(1.0, 0, 10, 104), 0.25);
  EXPECT_EQ(s.rate(1.0, 1, 10, 104), 0.5);
  EXPECT_EQ(s.rate(1.0, 3, 10, 104), 1.0);
  EXPECT_EQ(s.rate(1.0, 4, 10, 104), 1.0);  // the cosine starts after the warm-up
  EXPECT_NEAR(s.rate(1.0, 54, 10, 104), 0.5, 1e-15);
  EXPECT_EQ(parse_lr_schedule("constant", 2).rate(0.1, 0, 10, 100), 0.05);
  EXPECT_EQ(parse_lr_schedule("constant").rate(0.1, 7, 10, 100), 0.1);
}

TEST(LrSchedule, BadTextIsNamed) {
  for (const char* bad : {"", "linear", "step:0:0.5", "step:2:1.5", "step:2", "step:2:0.5x"}) {
    EXPECT_THROW(parse_lr_schedule(bad), ValueError) << bad;
  }
  EXPECT_THAT(testing_util::error_of<ValueError>([] { parse_lr_schedule("linear"); }),
              HasSubstr("'linear' is not one nabla knows; the schedules are constant, cosine "
                        "and step:EPOCHS:FACTOR"));
  EXPECT_THROW(parse_lr_schedule("cosine", -1), ValueError);
}

}  // namespace
}  // namespace nabla
