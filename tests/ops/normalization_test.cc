// Batch normalization and dropout ops: values against the formulas, gradients checked
// numerically in float64.
#include <gtest/gtest.h>

#include <cmath>

#include "nabla/autograd/gradcheck.h"
#include "nabla/ops/batch_norm.h"
#include "nabla/ops/dropout.h"
#include "nabla/ops/ops.h"

namespace nabla {
namespace {

TEST(BatchNorm, NormalisesEachFeatureOverTheBatch) {
  // columns (1, 3, 5) and (2, 6, 10): means 3 and 6, variances 8/3 and 32/3
  Var x = Var::constant(Tensor::from({3, 2}, {1, 2, 3, 6, 5, 10}));
  Var gamma = Var::constant(Tensor::from({2}, {2, 1})),
      beta = Var::constant(Tensor::from({2}, {0, 1}));
  BatchStats stats;
  Tensor y = batch_norm(x, gamma, beta, 0.0, &stats).value();
  EXPECT_EQ(to_string(stats.mean), "[3, 6]");
  EXPECT_NEAR(stats.var.get(0), 8.0 / 3, 1e-12);
  EXPECT_NEAR(stats.var.get(1), 32.0 / 3, 1e-12);
  const double r = std::sqrt(1.5);  // 2 / sqrt(8/3) = 4 / sqrt(32/3)
  EXPECT_NEAR(y.at({0, 0}), 2 * -r, 1e-12);
  EXPECT_NEAR(y.at({1, 0}), 0.0, 1e-12);
  EXPECT_NEAR(y.at({2, 1}), 1 + r, 1e-12);
}

TEST(BatchNorm, ChannelsOfImagesShareStatistics) {
  Rng rng(2);
  Var x = Var::constant(Tensor::randn({4, 3, 2, 5}, rng, 2.0, DType::f64));
  Var ones = Var::constant(Tensor::ones({3}, DType::f64)),
      zeros = Var::constant(Tensor({3}, DType::f64));
  Tensor y = batch_norm(x, ones, zeros, 0.0).value();
  for (std::int64_t c = 0; c < 3; ++c) {
    double total = 0, squares = 0;
    for (std::int64_t n = 0; n < 4; ++n)
      for (std::int64_t i = 0; i < 10; ++i) {
        const double v = y.get((n * 3 + c) * 10 + i);
        total += v, squares += v * v;
      }
    EXPECT_NEAR(total / 40, 0.0, 1e-12);
    EXPECT_NEAR(squares / 40, 1.0, 1e-12);
  }
}

TEST(BatchNorm, GradientsMatchNumerical) {
  Rng rng(4);
  for (Shape shape : {Shape{5, 3}, Shape{3, 2, 3, 2}}) {
    Var x = Var::parameter(Tensor::randn(shape, rng, 1.0, DType::f64), "x");
    Var gamma = Var::parameter(Tensor::randn({shape[1]}, rng, 1.0, DType::f64), "gamma");
    Var beta = Var::parameter(Tensor::randn({shape[1]}, rng, 1.0, DType::f64), "beta");
    Tensor w = Tensor::randn(shape, rng, 1.0, DType::f64);
    auto train = [&] { return sum(mul(batch_norm(x, gamma, beta), Var::constant(w))); };
    EXPECT_LT(gradient_check(train, {x, gamma, beta}).max_rel_error(), 1e-6) << shape_str(shape);
    Tensor mean = Tensor::randn({shape[1]}, rng, 1.0, DType::f64);
    Tensor var = add_scalar(square(Tensor::randn({shape[1]}, rng, 1.0, DType::f64)), 0.5);
    auto eval = [&] {
      return sum(mul(batch_norm_inference(x, mean, var, gamma, beta), Var::constant(w)));
    };
    EXPECT_LT(gradient_check(eval, {x, gamma, beta}).max_rel_error(), 1e-7) << shape_str(shape);
  }
}

TEST(BatchNorm, ShapeErrorsNameTheOp) {
  Var x = Var::constant(Tensor({4, 3}, DType::f64));
  Var g = Var::constant(Tensor({2}, DType::f64));
  try {
    batch_norm(x, g, g);
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_STREQ(e.what(), "batch_norm: expected gamma and beta (3) for an input (4,3), got (2)");
  }
  EXPECT_THROW(batch_norm(Var::constant(Tensor({4, 3, 2}, DType::f64)), g, g), ShapeError);
}

TEST(Dropout, KeepsAboutOneMinusPAndScalesThem) {
  Rng rng(9);
  Var x = Var::parameter(Tensor::ones({100, 100}, DType::f64), "x");
  Var y = dropout(x, 0.3, rng);
  std::int64_t kept = 0;
  for (std::int64_t i = 0; i < y.value().numel(); ++i) {
    const double v = y.value().get(i);
    ASSERT_TRUE(v == 0.0 || std::abs(v - 1 / 0.7) < 1e-12) << v;
    kept += v != 0.0;
  }
  EXPECT_NEAR(static_cast<double>(kept) / 10000, 0.7, 0.02);
  // backward goes through the same mask and scale
  y.backward(Tensor::ones({100, 100}, DType::f64));
  EXPECT_EQ(max_abs_diff(x.grad(), y.value()), 0.0);
}

TEST(Dropout, SameSeedSameMaskAndBadProbabilityRefused) {
  Rng a(5), b(5);
  Var x = Var::constant(Tensor::ones({50}, DType::f64));
  EXPECT_EQ(max_abs_diff(dropout(x, 0.5, a).value(), dropout(x, 0.5, b).value()), 0.0);
  Rng c(5);
  EXPECT_EQ(max_abs_diff(dropout(x, 0.0, c).value(), x.value()), 0.0);
  EXPECT_THROW(dropout(x, 1.0, c), ValueError);
  EXPECT_THROW(dropout(x, -0.1, c), ValueError);
}

}  // namespace
}  // namespace nabla
