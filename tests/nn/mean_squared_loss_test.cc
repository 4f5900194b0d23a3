// MeanSquaredLoss: its values on a worked example, its gradient checked in float64, and
// its errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nabla/autograd/gradcheck.h"
#include "nabla/nn/layers.h"
#include "nabla/ops/ops.h"
#include "test_util.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;
using testing_util::random;

TEST(MeanSquaredLoss, WorkedExample) {
  // Two examples, two outputs: y - t = (0.5, -1; 2, 0), L = (1/2) 1/2 (0.25 + 1 + 4 + 0).
  Tensor y = Tensor::from({2, 2}, {1.5, 0.0, 3.0, -1.0});
  Tensor t = Tensor::from({2, 2}, {1.0, 1.0, 1.0, -1.0});
  MeanSquaredLoss loss;
  EXPECT_DOUBLE_EQ(loss.forward(y, t), 0.5 * 5.25 / 2);
  // dL/dy = (y - t) / N, times dout
  EXPECT_EQ(loss.backward().to_vector(), (std::vector<double>{0.25, -0.5, 1.0, 0.0}));
  EXPECT_EQ(loss.backward(2.0).to_vector(), (std::vector<double>{0.5, -1.0, 2.0, 0.0}));
}

TEST(MeanSquaredLoss, PerfectFitIsZero) {
  Tensor y = random({4, 3}, 5);
  MeanSquaredLoss loss;
  EXPECT_EQ(loss.forward(y, y), 0.0);
  EXPECT_EQ(loss.backward().to_vector(), std::vector<double>(12, 0.0));
}

TEST(MeanSquaredLoss, GradientCheckInFloat64) {
  Var y = Var::parameter(random({5, 3}, 11), "y");
  const Tensor t = random({5, 3}, 12);
  MeanSquaredLoss loss;
  const GradCheckReport r = gradient_check([&] { return loss(y, t); }, {y});
  ASSERT_EQ(r.params.size(), 1u);
  EXPECT_LE(r.params[0].max_rel_error, 1e-7);
}

TEST(MeanSquaredLoss, FloatOutputsKeepTheirType) {
  Tensor y = Tensor::from({3, 1}, {1, 2, 3}, DType::f32);
  Tensor t = Tensor::from({3, 1}, {0, 0, 0}, DType::f64);
  MeanSquaredLoss loss;
  EXPECT_DOUBLE_EQ(loss.forward(y, t), 0.5 * 14 / 3);
  const Tensor dy = loss.backward();
  EXPECT_EQ(dy.dtype(), DType::f32);
  EXPECT_NEAR(dy.get(2), 1.0, 1e-7);
}

TEST(MeanSquaredLoss, ErrorsNameTheShapes) {
  MeanSquaredLoss loss;
  Tensor y = random({4, 1}, 1);
  try {
    loss.forward(y, Tensor(random({3, 1}, 2)));
    FAIL() << "a target of another shape was taken";
  } catch (const ShapeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("MeanSquaredLoss"));
    EXPECT_THAT(e.what(), HasSubstr("(3,1)"));
    EXPECT_THAT(e.what(), HasSubstr("(4,1)"));
  }
  EXPECT_THROW(loss.forward(y, std::vector<std::int64_t>{0, 1, 0, 1}), ValueError);
  EXPECT_THROW(loss.forward(random({4}, 1), Tensor(random({4}, 2))), ShapeError);
  MeanSquaredLoss fresh;
  EXPECT_THROW(fresh.backward(), ValueError);
}

}  // namespace
}  // namespace nabla
