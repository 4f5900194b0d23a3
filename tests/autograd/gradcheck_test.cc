// numerical_gradient, compare_gradients and gradient_check on functions of known gradient.
#include "nabla/autograd/gradcheck.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "nabla/ops/ops.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;

TEST(NumericalGradient, OfAQuadratic) {
  // f(x) = x0^2 + 3 x0 x1 + x1^3 at (2, -1): df/dx0 = 2 x0 + 3 x1 = 1, df/dx1 = 3 x0 + 3 x1^2 = 9
  Tensor x = Tensor::from({2}, {2, -1});
  auto f = [&] {
    double a = x.get(0), b = x.get(1);
    return a * a + 3 * a * b + b * b * b;
  };
  Tensor g = numerical_gradient(f, x);
  EXPECT_NEAR(g.get(0), 1, 1e-8);
  EXPECT_NEAR(g.get(1), 9, 1e-7);  // central differences: error h^2 f''' / 6 = 1e-8
  EXPECT_EQ(x.to_vector(), (std::vector<double>{2, -1}));  // restored
  EXPECT_EQ(g.shape(), x.shape());
  EXPECT_EQ(g.dtype(), DType::f64);
}

TEST(NumericalGradient, TextbookFiniteDifference) {
  // worked-examples §4: (1.25322 - 1.25347) / 0.0001 = -2.5, here as the slope of a line
  Tensor w = Tensor::from({1}, {0.0});
  Tensor g = numerical_gradient([&] { return 1.25347 - 2.5 * w.get(0); }, w, 1e-4);
  EXPECT_NEAR(g.get(0), -2.5, 1e-9);
}

TEST(NumericalGradient, Float32UsesTheStepActuallyTaken) {
  Tensor x = Tensor::from({3}, {0.1, 1.7, -3.3}, DType::f32);
  Tensor g = numerical_gradient([&] { return 4 * x.get(0) - 2 * x.get(1) + x.get(2); }, x, 1e-3);
  EXPECT_EQ(g.dtype(), DType::f32);
  EXPECT_NEAR(g.get(0), 4, 1e-5);
  EXPECT_NEAR(g.get(1), -2, 1e-5);
  EXPECT_NEAR(g.get(2), 1, 1e-5);
}

TEST(CompareGradients, Figures) {
  Tensor n = Tensor::from({4}, {1.0, 2.0, 0.0, -4.0});
  Tensor a = Tensor::from({4}, {1.0, 2.2, 1e-9, -4.0});
  GradCheckReport r = compare_gradients({"w"}, {n}, {a});
  ASSERT_EQ(r.params.size(), 1u);
  EXPECT_EQ(r.params[0].name, "w");
  EXPECT_NEAR(r.params[0].max_abs_diff, 0.2, 1e-12);
  EXPECT_NEAR(r.params[0].mean_abs_diff, (0.2 + 1e-9) / 4, 1e-12);
  EXPECT_NEAR(r.params[0].max_rel_error, 0.2 / 2.2, 1e-12);  // 1e-9 counts against the floor
  EXPECT_NEAR(r.max_rel_error(), 0.2 / 2.2, 1e-12);
  EXPECT_NEAR(r.max_mean_abs_diff(), (0.2 + 1e-9) / 4, 1e-12);
}

TEST(CompareGradients, MismatchesThrow) {
  Tensor a({2, 3}, DType::f64), b({3, 2}, DType::f64);
  try {
    compare_gradients({"W1"}, {a}, {b});
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("W1: numerical (2,3) vs analytic (3,2)"));
  }
  EXPECT_THROW(compare_gradients({"a", "b"}, {a}, {a}), ValueError);
}

TEST(GradientCheck, KnownGradients) {
  Rng rng(7);
  Var x = Var::parameter(Tensor::randn({3, 4}, rng, 1.0, DType::f64), "x");
  Var w = Var::parameter(Tensor::randn({4, 2}, rng, 1.0, DType::f64), "w");
  // f = sum((x.w)^2): df/dw = 2 x^T (x w), df/dx = 2 (x w) w^T
  GradCheckReport r = gradient_check([&] { return sum(square(matmul(x, w))); }, {x, w});
  ASSERT_EQ(r.params.size(), 2u);
  EXPECT_EQ(r.params[0].name, "x");
  EXPECT_EQ(r.params[1].name, "w");
  EXPECT_LE(r.max_rel_error(), 1e-8);
  Tensor xw = matmul(x.value(), w.value());
  Tensor dw = scale(matmul(x.value(), xw, true, false), 2.0);
  EXPECT_LE(max_abs_diff(w.grad(), dw), 1e-12);  // the backprop grad is left in place
}

TEST(GradientCheck, ScalarFunctionAndUnnamedParams) {
  // f(a, b) = a^2 b + exp(b) at a = 1.5, b = -0.5: df/da = 2ab = -1.5, df/db = a^2 + e^b
  Var a = Var::parameter(Tensor::scalar(1.5)), b = Var::parameter(Tensor::scalar(-0.5));
  GradCheckReport r = gradient_check([&] { return square(a) * b + exp(b); }, {a, b});
  EXPECT_EQ(r.params[0].name, "p0");
  EXPECT_EQ(r.params[1].name, "p1");
  EXPECT_LE(r.max_rel_error(), 1e-8);
  EXPECT_DOUBLE_EQ(a.grad().item(), -1.5);
  EXPECT_NEAR(b.grad().item(), 2.25 + std::exp(-0.5), 1e-15);
}

TEST(GradientCheck, ZeroesGradsFirst) {
  Var a = Var::parameter(Tensor::from({2}, {1, 2}));
  a.grad().fill(100);  // stale gradient from an earlier step
  GradCheckReport r = gradient_check([&] { return sum(a * a); }, {a});
  EXPECT_LE(r.max_rel_error(), 1e-8);
  EXPECT_EQ(a.grad().to_vector(), (std::vector<double>{2, 4}));
}

TEST(GradientCheck, CatchesAWrongGradient) {
  // A deliberately wrong backward (d(x^2) taken as x) must show up as a large error.
  Var x = Var::parameter(Tensor::from({2}, {1.0, -3.0}), "x");
  auto wrong_square = [&] {
    return record("wrong_square", square(x.value()), {x},
                  [x](const Tensor& dout) { accumulate_grad(x, mul(dout, x.value()), "wrong"); });
  };
  GradCheckReport r = gradient_check([&] { return sum(wrong_square()); }, {x});
  EXPECT_NEAR(r.max_rel_error(), 0.5, 1e-6);
}

}  // namespace
}  // namespace nabla
