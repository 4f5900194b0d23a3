// jacobian(): one backward pass per output, checked against central differences and
// against the closed forms of the lecture (diag(f'(z)), W, I, h^T).
#include "nabla/autograd/jacobian.h"

#include <gtest/gtest.h>

#include <cmath>

#include "nabla/ops/ops.h"

namespace nabla {
namespace {

TEST(Jacobian, ElementwiseFunctionIsDiagonal) {
  const Tensor z = Tensor::from({4}, {-1.5, -0.2, 0.7, 2.0});
  const Tensor J = jacobian([](const Var& v) { return sigmoid(v); }, z);
  ASSERT_EQ(J.shape(), (Shape{4, 4}));
  for (std::int64_t i = 0; i < 4; ++i) {
    for (std::int64_t j = 0; j < 4; ++j) {
      const double y = 1.0 / (1.0 + std::exp(-z.get(i)));
      EXPECT_DOUBLE_EQ(J.at({i, j}), i == j ? y * (1 - y) : 0.0) << i << "," << j;
    }
  }
}

TEST(Jacobian, AffineMapGivesItsMatrix) {
  const Tensor W = Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor x = Tensor::from({3, 1}, {0.5, -1, 2});
  Var Wc = Var::constant(W), b = Var::constant(Tensor::from({2, 1}, {7, 8}));
  const Tensor J = jacobian([&](const Var& v) { return matmul(Wc, v) + b; }, x);
  EXPECT_EQ(J.shape(), (Shape{2, 3}));
  EXPECT_EQ(max_abs_diff(J, W), 0.0);
}

TEST(Jacobian, ScoreOfAVectorIsARow) {
  // d(u^T h)/du = h^T: a 1 x n Jacobian.
  const Tensor h = Tensor::from({3, 1}, {0.3, -0.6, 0.9});
  Var hc = Var::constant(h);
  const Tensor J = jacobian([&](const Var& u) { return matmul(transpose(u), hc); },
                            Tensor::from({3, 1}, {1, 2, -1}));
  EXPECT_EQ(J.shape(), (Shape{1, 3}));
  EXPECT_EQ(max_abs_diff(J, transpose(h)), 0.0);
}

TEST(Jacobian, RepeatedPassesDoNotAccumulate) {
  // y = (x0 x1, x0 + x1, x0^2): every row needs its own pass through shared nodes.
  auto f = [](const Var& x) {
    Var x0 = reshape(matmul(Var::constant(Tensor::from({1, 2}, {1, 0})), x), {1});
    Var x1 = reshape(matmul(Var::constant(Tensor::from({1, 2}, {0, 1})), x), {1});
    Var prod = x0 * x1, total = x0 + x1, sq = square(x0);
    Var stack = matmul(Var::constant(Tensor::from({3, 1}, {1, 0, 0})), reshape(prod, {1, 1})) +
                matmul(Var::constant(Tensor::from({3, 1}, {0, 1, 0})), reshape(total, {1, 1})) +
                matmul(Var::constant(Tensor::from({3, 1}, {0, 0, 1})), reshape(sq, {1, 1}));
    return stack;
  };
  const Tensor x = Tensor::from({2, 1}, {3, -2});
  const Tensor J = jacobian(f, x);
  const Tensor expected = Tensor::from({3, 2}, {-2, 3, 1, 1, 6, 0});
  EXPECT_EQ(max_abs_diff(J, expected), 0.0);
}

TEST(Jacobian, MatchesCentralDifferences) {
  const Tensor W =
      Tensor::from({3, 4}, {0.2, -0.1, 0.4, 0.3, -0.3, 0.5, 0.1, -0.2, 0.6, 0.0, -0.4, 0.25});
  Var Wc = Var::constant(W);
  auto f = [&](const Var& x) { return tanh(matmul(Wc, x)) * 2.0; };
  const Tensor x = Tensor::from({4, 1}, {0.3, -1.2, 0.8, 0.1});
  const Tensor analytic = jacobian(f, x);
  const Tensor numerical = numerical_jacobian(f, x);
  EXPECT_EQ(analytic.shape(), (Shape{3, 4}));
  EXPECT_LT(max_abs_diff(analytic, numerical), 1e-8);
  EXPECT_GT(max_abs_diff(analytic, Tensor({3, 4}, DType::f64)), 0.1);  // not all zero
}

TEST(Jacobian, OutputThatIgnoresTheInputHasZeroRows) {
  Var c = Var::constant(Tensor::from({2}, {1, 2}));
  const Tensor J =
      jacobian([&](const Var& x) { return c + sum(x) * 0.0; }, Tensor::from({3}, {1, 2, 3}));
  EXPECT_EQ(J.shape(), (Shape{2, 3}));
  EXPECT_EQ(max_abs_diff(J, Tensor({2, 3}, DType::f64)), 0.0);
}

TEST(Jacobian, EmptyInputIsRefused) {
  try {
    jacobian([](const Var& x) { return x; }, Tensor({0}, DType::f64));
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("jacobian"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nabla
