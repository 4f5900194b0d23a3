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
  for (const char* bad : {"", "linear", "step:0:0.5", "step:2:1.5", "step:2", "step:2:0.5x",
                          "plateau:0:0.5", "plateau:2:1", "plateau:2", "plateau:2:0.5:1"}) {
    EXPECT_THROW(parse_lr_schedule(bad), ValueError) << bad;
  }
  EXPECT_THAT(testing_util::error_of<ValueError>([] { parse_lr_schedule("linear"); }),
              HasSubstr("'linear' is not one nabla knows; the schedules are constant, cosine, "
                        "step:EPOCHS:FACTOR and plateau:PATIENCE:FACTOR"));
  EXPECT_THROW(parse_lr_schedule("cosine", -1), ValueError);
}

TEST(LrSchedule, PlateauReducesAfterPatienceEvaluationsWithoutABetterMetric) {
  const LrSchedule s = parse_lr_schedule("plateau:2:0.5", 2);
  EXPECT_EQ(s.kind, LrSchedule::Kind::plateau);
  EXPECT_EQ(s.text(), "plateau:2:0.5");
  EXPECT_EQ(s.rate(0.1, 0, 10, 100, 0.25), 0.05);  // the warm-up first
  EXPECT_EQ(s.rate(0.1, 50, 10, 100, 0.25), 0.025);
  // a constructed accuracy curve: best 0.6 at the second evaluation; the fourth is the
  // second without a better one (x 0.5), the sixth the second after that (x 0.25); 0.7
  // is a new best and the count starts again
  Plateau p(s.patience, s.factor, true);
  std::vector<double> scales;
  std::vector<bool> reduced;
  for (double v : {0.5, 0.6, 0.55, 0.6, 0.59, 0.58, 0.7, 0.69}) {
    reduced.push_back(p.update(v));
    scales.push_back(p.scale());
  }
  EXPECT_EQ(reduced, (std::vector<bool>{false, false, false, true, false, true, false, false}));
  EXPECT_EQ(scales, (std::vector<double>{1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.25}));
  EXPECT_EQ(p.reductions(), 2);
  EXPECT_EQ(p.seen(), 8);
  // lower is better for an error (RMSE)
  Plateau error(1, 0.1, false);
  EXPECT_FALSE(error.update(0.5));
  EXPECT_FALSE(error.update(0.4));
  EXPECT_TRUE(error.update(0.45));
  EXPECT_NEAR(error.scale(), 0.1, 1e-17);
  // its state survives a checkpoint's text: the restored one goes on as the first
  Plateau copy(2, 0.5, true);
  copy.restore(p.state());
  for (double v : {0.65, 0.6, 0.8}) EXPECT_EQ(copy.update(v), p.update(v));
  EXPECT_EQ(copy.scale(), p.scale());
  EXPECT_EQ(copy.state(), p.state());
  EXPECT_THROW(copy.restore("1 2"), ValueError);
  EXPECT_THROW(copy.restore("1 0 0 0.5 2"), ValueError);  // a scale above 1
}

}  // namespace
}  // namespace nabla
