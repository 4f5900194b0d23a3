// gather_rows, concat and the binary logistic loss: values, errors, and float64 gradient
// checks.
#include "nabla/ops/indexing.h"

#include <gtest/gtest.h>

#include <cmath>

#include "nabla/autograd/gradcheck.h"
#include "nabla/ops/logistic_loss.h"
#include "nabla/ops/ops.h"

namespace nabla {
namespace {

TEST(GatherRows, PicksRowsAndAddsGradientsBack) {
  Var table = Var::parameter(Tensor::from({4, 2}, {0, 1, 10, 11, 20, 21, 30, 31}), "table");
  Var rows = gather_rows(table, {2, 0, 2});
  EXPECT_EQ(to_string(rows.value()), "[[20, 21], [0, 1], [20, 21]]");
  rows.backward(Tensor::from({3, 2}, {1, 2, 3, 4, 5, 6}));
  // row 2 was read twice: it gets both gradients; rows 1 and 3 get none
  EXPECT_EQ(to_string(table.grad()), "[[3, 4], [0, 0], [6, 8], [0, 0]]");
}

TEST(GatherRows, WindowOfVectorsAndGradientCheck) {
  Rng rng(3);
  Var table = Var::parameter(Tensor::randn({6, 3}, rng, 1.0, DType::f64), "table");
  const std::vector<std::int64_t> windows = {0, 1, 2, 1, 2, 5};  // two windows of 3
  Tensor w = Tensor::randn({2, 9}, rng, 1.0, DType::f64);
  auto f = [&] {
    return sum(mul(tanh(reshape(gather_rows(table, windows), {2, 9})), Var::constant(w)));
  };
  EXPECT_LT(gradient_check(f, {table}).max_rel_error(), 1e-8);
}

TEST(GatherRows, IdOutOfRangeIsNamed) {
  Var table = Var::constant(Tensor({4, 2}, DType::f64));
  try {
    gather_rows(table, {1, 4});
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "gather_rows: id 4 at position 1 is outside the table's rows [0, 4)");
  }
  EXPECT_THROW(gather_rows(table, {-1}), ValueError);
  EXPECT_THROW(gather_rows(Var::constant(Tensor({4}, DType::f64)), {0}), ShapeError);
}

TEST(Concat, JoinsAlongAnAxisAndSplitsTheGradient) {
  Var a = Var::parameter(Tensor::from({2, 2}, {1, 2, 3, 4}), "a");
  Var b = Var::parameter(Tensor::from({2, 1}, {5, 6}), "b");
  Var c = concat({a, b}, 1);
  EXPECT_EQ(to_string(c.value()), "[[1, 2, 5], [3, 4, 6]]");
  c.backward(Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(to_string(a.grad()), "[[1, 2], [4, 5]]");
  EXPECT_EQ(to_string(b.grad()), "[[3], [6]]");
  Var rows = concat({a, Var::constant(Tensor::from({1, 2}, {7, 8}))}, 0);
  EXPECT_EQ(to_string(rows.value()), "[[1, 2], [3, 4], [7, 8]]");
}

TEST(Concat, GradientCheckAndShapeErrors) {
  Rng rng(8);
  Var a = Var::parameter(Tensor::randn({2, 3, 2}, rng, 1.0, DType::f64), "a");
  Var b = Var::parameter(Tensor::randn({2, 1, 2}, rng, 1.0, DType::f64), "b");
  Tensor w = Tensor::randn({2, 4, 2}, rng, 1.0, DType::f64);
  auto f = [&] { return sum(mul(square(concat({a, b}, 1)), Var::constant(w))); };
  EXPECT_LT(gradient_check(f, {a, b}).max_rel_error(), 1e-6);
  try {
    concat({a, b}, 2);
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_STREQ(e.what(), "concat: (2,3,2) and (2,1,2) differ outside axis 2");
  }
  EXPECT_THROW(concat({}, 0), ShapeError);
}

TEST(BinaryLogisticLoss, StableValuesAndTheGradientSigmoidMinusTarget) {
  // s = 0: log 2 either way; s = 40, t = 1: ~4e-18; s = -800, t = 1: 800 (no overflow)
  Var s = Var::parameter(Tensor::from({4}, {0, 0, 40, -800}), "s");
  Var loss = binary_logistic_loss(s, {1, 0, 1, 1});
  EXPECT_NEAR(loss.item(), (2 * std::log(2.0) + std::exp(-40.0) + 800) / 4, 1e-12);
  loss.backward();
  EXPECT_NEAR(s.grad().get(0), (0.5 - 1) / 4, 1e-15);
  EXPECT_NEAR(s.grad().get(1), 0.5 / 4, 1e-15);
  EXPECT_NEAR(s.grad().get(3), -1.0 / 4, 1e-15);
  EXPECT_TRUE(std::isfinite(s.grad().get(3)));
}

TEST(BinaryLogisticLoss, GradientCheckAndBadTargets) {
  Rng rng(12);
  Var s = Var::parameter(Tensor::randn({5, 1}, rng, 2.0, DType::f64), "s");
  auto f = [&] { return binary_logistic_loss(s, {1, 0, 0, 1, 1}); };
  EXPECT_LT(gradient_check(f, {s}).max_rel_error(), 1e-7);
  EXPECT_THROW(binary_logistic_loss(s, {1, 0, 2, 1, 1}), ValueError);
  EXPECT_THROW(binary_logistic_loss(s, {1, 0}), ShapeError);
}

}  // namespace
}  // namespace nabla
