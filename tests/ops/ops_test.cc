// Every primitive op: forward values, and its backward checked against central
// differences in float64 (inputs kept away from kinks).
#include "nabla/ops/ops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <tuple>

#include "nabla/autograd/gradcheck.h"
#include "nabla/detail/workers.h"
#include "test_util.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;

constexpr double kTol = 1e-6;

Var random_param(Shape shape, std::uint64_t seed, double low = -2, double high = 2) {
  Rng rng(seed);
  return Var::parameter(Tensor::uniform(std::move(shape), rng, low, high, DType::f64));
}

// Random values with |x| >= 0.2, away from the kinks of relu/max/abs at 0.
Var away_from_zero(Shape shape, std::uint64_t seed) {
  Var v = random_param(std::move(shape), seed);
  Tensor& t = v.value();
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    double x = t.get(i);
    t.set(i, x >= 0 ? x + 0.2 : x - 0.2);
  }
  return v;
}

// A fixed random weighting turns any output into a scalar with a non-trivial gradient.
Var weighted_sum(const Var& y, std::uint64_t seed = 99) {
  Rng rng(seed);
  Var w = Var::constant(Tensor::uniform(y.shape(), rng, -1, 1, DType::f64));
  return sum(y * w);
}

void expect_grad_ok(const std::function<Var()>& f, const std::vector<Var>& params) {
  GradCheckReport r = gradient_check(f, params);
  EXPECT_LE(r.max_rel_error(), kTol);
  for (const ParamCheck& p : r.params) EXPECT_LE(p.max_rel_error, kTol) << p.name;
}

// ---- forward values ----------------------------------------------------------------

TEST(Ops, BroadcastRowOverBatch) {
  Tensor x = Tensor::from({2, 3}, {0, 0, 0, 10, 10, 10});
  Tensor b = Tensor::from({3}, {1, 2, 3});
  EXPECT_EQ(add(x, b).to_vector(), (std::vector<double>{1, 2, 3, 11, 12, 13}));
  EXPECT_EQ(add(b, x).to_vector(), (std::vector<double>{1, 2, 3, 11, 12, 13}));
  EXPECT_EQ(broadcast_shapes({4, 1, 3}, {5, 1}, "add"), (Shape{4, 5, 3}));
}

TEST(Ops, BroadcastColumnAndScalar) {
  Tensor x = Tensor::from({2, 2}, {1, 2, 3, 4});
  Tensor col = Tensor::from({2, 1}, {10, 20});
  EXPECT_EQ(mul(x, col).to_vector(), (std::vector<double>{10, 20, 60, 80}));
  EXPECT_EQ(sub(x, Tensor::scalar(1)).to_vector(), (std::vector<double>{0, 1, 2, 3}));
}

TEST(Ops, BroadcastMismatchNamesOpAndShapes) {
  try {
    (void)add(Tensor({2, 3}, DType::f64), Tensor({2}, DType::f64));
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("add: (2,3) vs (2)"));
  }
}

TEST(Ops, SumToReducesBroadcastAxes) {
  Tensor g = Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(sum_to(g, {3}).to_vector(), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(sum_to(g, {2, 1}).to_vector(), (std::vector<double>{6, 15}));
  EXPECT_EQ(sum_to(g, {}).item(), 21);
}

TEST(Ops, MatmulValues) {
  Tensor a = Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from({3, 2}, {7, 8, 9, 10, 11, 12});
  EXPECT_EQ(matmul(a, b).to_vector(), (std::vector<double>{58, 64, 139, 154}));
  EXPECT_EQ(matmul(a, a, false, true).to_vector(), (std::vector<double>{14, 32, 32, 77}));
  Tensor af = a.to(DType::f32), bf = b.to(DType::f32);
  EXPECT_EQ(matmul(af, bf).to_vector(), (std::vector<double>{58, 64, 139, 154}));
}

TEST(Ops, MatmulShapeErrorText) {
  try {
    (void)matmul(Tensor({100, 784}), Tensor({50, 10}));
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_STREQ(e.what(), "matmul: (100,784) x (50,10): inner dimensions differ");
  }
  EXPECT_THROW((void)matmul(Tensor({2, 2}), Tensor({2, 2}, DType::f64)), ValueError);
  EXPECT_THROW((void)matmul(Tensor({2}), Tensor({2, 2})), ShapeError);
}

TEST(Ops, GemmAccumulates) {
  Tensor a = Tensor::from({1, 2}, {1, 2}), b = Tensor::from({2, 1}, {3, 4});
  Tensor out = Tensor::from({1, 1}, {100});
  gemm(a, false, b, false, 2.0, 1.0, out);  // 100 + 2 * 11
  EXPECT_EQ(out.item(), 122);
  Tensor wrong({2, 2}, DType::f64);
  EXPECT_THROW(gemm(a, false, b, false, 1.0, 0.0, wrong), ShapeError);
}

// out = alpha op(a) op(b) + beta out in double, element by element.
Tensor gemm_reference(const Tensor& a, bool ta, const Tensor& b, bool tb, double alpha, double beta,
                      const Tensor& out) {
  const std::int64_t m = out.size(0), n = out.size(1), k = ta ? a.size(0) : a.size(1);
  Tensor r({m, n}, DType::f64);
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (std::int64_t p = 0; p < k; ++p)
        sum += (ta ? a.at({p, i}) : a.at({i, p})) * (tb ? b.at({j, p}) : b.at({p, j}));
      r.set(i * n + j, alpha * sum + (beta != 0 ? beta * out.get(i * n + j) : 0.0));
    }
  }
  return r;
}

// float32 products of the recipe's second-layer shapes (100x50 . 50x10 and its
// transposes) and others around them: every transpose, alpha and beta; beta = 0 ignores
// what out held, NaN included (BLAS's rule, which gemm keeps).
TEST(Ops, GemmSmallAndLargeFloatMatchDouble) {
  Rng rng(21);
  struct Case {
    std::int64_t m, n, k;
  };
  for (Case c : std::vector<Case>{{1, 1, 1},
                                  {3, 5, 7},
                                  {100, 10, 50},
                                  {50, 10, 100},
                                  {100, 50, 10},
                                  {9, 16, 20},
                                  {13, 17, 3},
                                  {7, 33, 11},
                                  {6, 48, 5},
                                  {11, 64, 9},
                                  {5, 65, 4},
                                  {300, 30, 40}}) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        Tensor a = Tensor::randn(ta ? Shape{c.k, c.m} : Shape{c.m, c.k}, rng, 1.0, DType::f32);
        Tensor b = Tensor::randn(tb ? Shape{c.n, c.k} : Shape{c.k, c.n}, rng, 1.0, DType::f32);
        for (auto [alpha, beta] :
             {std::pair{1.0, 0.0}, std::pair{-0.5, 1.0}, std::pair{2.0, 0.25}}) {
          Tensor out = Tensor::randn({c.m, c.n}, rng, 1.0, DType::f32);
          if (beta == 0) out.fill(std::nan(""));
          const Tensor expected = gemm_reference(a, ta, b, tb, alpha, beta, out);
          gemm(a, ta, b, tb, alpha, beta, out);
          for (std::int64_t i = 0; i < out.numel(); ++i) {
            ASSERT_NEAR(out.get(i), expected.get(i), 1e-4 * (1 + std::abs(expected.get(i))))
                << c.m << "x" << c.n << "x" << c.k << " ta " << ta << " tb " << tb << " alpha "
                << alpha << " beta " << beta << " at " << i;
          }
        }
      }
    }
  }
}

// A product of kGemmSplitAbove multiply-adds or more runs in two bands: of columns
// (129 x 160, op(b) the larger; bands of 80) and of rows (301 x 70; bands of 150 and 151).
// Every transpose and a beta: the same bits with two threads as with none, and the
// values of the double reference.
TEST(Ops, GemmInBandsMatchesDoubleAndGivesTheSameBitsOnThreads) {
  Rng rng(22);
  Workers two(2);
  for (auto [m, n, k] :
       {std::tuple<std::int64_t, std::int64_t, std::int64_t>{129, 160, 820}, {301, 70, 800}}) {
    ASSERT_GE(m * n * k, kGemmSplitAbove);
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        Tensor a = Tensor::randn(ta ? Shape{k, m} : Shape{m, k}, rng, 1.0, DType::f32);
        Tensor b = Tensor::randn(tb ? Shape{n, k} : Shape{k, n}, rng, 1.0, DType::f32);
        const Tensor start = Tensor::randn({m, n}, rng, 1.0, DType::f32);
        const Tensor expected = gemm_reference(a, ta, b, tb, 1.5, 0.5, start);
        Tensor alone = start, threaded = start;
        gemm(a, ta, b, tb, 1.5, 0.5, alone);
        {
          ThreadScope scope(&two);
          gemm(a, ta, b, tb, 1.5, 0.5, threaded);
        }
        EXPECT_TRUE(testing_util::same_bits(alone, threaded))
            << m << "x" << n << " ta " << ta << " tb " << tb;
        for (std::int64_t i = 0; i < alone.numel(); ++i) {
          ASSERT_NEAR(alone.get(i), expected.get(i), 1e-3 * (1 + std::abs(expected.get(i))))
              << m << "x" << n << " ta " << ta << " tb " << tb << " at " << i;
        }
      }
    }
  }
}

TEST(Ops, Reductions) {
  Tensor x = Tensor::from({2, 3}, {1, 5, 3, 4, 2, 6});
  EXPECT_EQ(sum(x).item(), 21);
  EXPECT_EQ(sum(x, 0).to_vector(), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(sum(x, -1).to_vector(), (std::vector<double>{9, 12}));
  EXPECT_EQ(mean(x, 1).to_vector(), (std::vector<double>{3, 4}));
  EXPECT_EQ(max(x).item(), 6);
  EXPECT_EQ(max(x, 1).to_vector(), (std::vector<double>{5, 6}));
  EXPECT_EQ(argmax_rows(x), (std::vector<std::int64_t>{1, 2}));
  EXPECT_THROW((void)sum(x, 2), ShapeError);
}

TEST(Ops, SoftmaxIsStableAndSumsToOne) {
  Tensor x = Tensor::from({2, 3}, {1000, 1001, 1002, -5, 0, 5});
  Tensor y = softmax(x);
  EXPECT_TRUE(all_finite(y));
  EXPECT_NEAR(y.at({0, 0}) + y.at({0, 1}) + y.at({0, 2}), 1.0, 1e-12);
  EXPECT_NEAR(y.at({0, 2}), 0.665240955774822, 1e-12);
}

TEST(Ops, FirstNonFiniteElement) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(first_non_finite(Tensor::from({3}, {1, -2, 3})), -1);
  EXPECT_EQ(first_non_finite(Tensor::from({2, 2}, {1, 2, -inf, std::nan("")})), 2);
  EXPECT_EQ(first_non_finite(Tensor::from({2}, {std::nan(""), inf}).to(DType::f32)), 0);
  EXPECT_FALSE(all_finite(Tensor::from({2}, {0, inf})));
  EXPECT_TRUE(all_finite(Tensor({0})));
}

TEST(Ops, SoftmaxOfLectureScores) {
  // dog 2.3, cat -1.2 -> 0.97, 0.03
  Tensor y = softmax(Tensor::from({2}, {2.3, -1.2}));
  EXPECT_NEAR(y.get(0), 0.97, 0.005);
  EXPECT_NEAR(y.get(1), 0.03, 0.005);
}

TEST(Ops, TransposeAndReshape) {
  Tensor x = Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(transpose(x).shape(), (Shape{3, 2}));
  EXPECT_EQ(transpose(x).to_vector(), (std::vector<double>{1, 4, 2, 5, 3, 6}));
}

TEST(Ops, ActivationValues) {
  Tensor x = Tensor::from({3}, {-1, 0, 2});
  EXPECT_EQ(relu(x).to_vector(), (std::vector<double>{0, 0, 2}));
  EXPECT_NEAR(sigmoid(x).get(0), 0.2689414213699951, 1e-15);
  EXPECT_NEAR(tanh(x).get(2), std::tanh(2.0), 1e-15);
}

// ---- gradients ---------------------------------------------------------------------

TEST(OpGrad, AddSubMulDivSameShape) {
  Var a = random_param({3, 4}, 1), b = random_param({3, 4}, 2, 0.5, 2);
  expect_grad_ok([&] { return weighted_sum(a + b); }, {a, b});
  expect_grad_ok([&] { return weighted_sum(a - b); }, {a, b});
  expect_grad_ok([&] { return weighted_sum(a * b); }, {a, b});
  expect_grad_ok([&] { return weighted_sum(a / b); }, {a, b});
}

TEST(OpGrad, BroadcastOperandsGetSummedGradients) {
  Var a = random_param({4, 3}, 3), row = random_param({3}, 4, 0.5, 2);
  Var col = random_param({4, 1}, 5, 0.5, 2), s = random_param({}, 6, 0.5, 2);
  expect_grad_ok([&] { return weighted_sum(a + row); }, {a, row});
  expect_grad_ok([&] { return weighted_sum(a * col); }, {a, col});
  expect_grad_ok([&] { return weighted_sum(a / s); }, {a, s});
  expect_grad_ok([&] { return weighted_sum(row - a); }, {a, row});
}

TEST(OpGrad, Maximum) {
  Var a = random_param({5, 3}, 7), b = random_param({5, 3}, 8);
  // keep a and b apart so no element sits on the tie
  for (std::int64_t i = 0; i < 15; ++i) {
    if (std::abs(a.value().get(i) - b.value().get(i)) < 0.1)
      a.value().set(i, b.value().get(i) + 0.5);
  }
  expect_grad_ok([&] { return weighted_sum(maximum(a, b)); }, {a, b});
  Var x = Var::parameter(Tensor::from({2}, {1, 3})), y = Var::parameter(Tensor::from({2}, {2, 2}));
  sum(maximum(x, y)).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{0, 1}));  // router
  EXPECT_EQ(y.grad().to_vector(), (std::vector<double>{1, 0}));
}

TEST(OpGrad, Unary) {
  Var a = random_param({3, 3}, 9);
  Var pos = random_param({3, 3}, 10, 0.5, 3);
  Var nz = away_from_zero({3, 3}, 11);
  expect_grad_ok([&] { return weighted_sum(-a); }, {a});
  expect_grad_ok([&] { return weighted_sum(exp(a)); }, {a});
  expect_grad_ok([&] { return weighted_sum(log(pos)); }, {pos});
  expect_grad_ok([&] { return weighted_sum(pow(pos, 2.5)); }, {pos});
  expect_grad_ok([&] { return weighted_sum(pow(nz, 3)); }, {nz});  // 3x^2: keep x off 0
  expect_grad_ok([&] { return weighted_sum(square(a)); }, {a});
  expect_grad_ok([&] { return weighted_sum(a * 3.5); }, {a});
  expect_grad_ok([&] { return weighted_sum(a + 2.0); }, {a});
  expect_grad_ok([&] { return weighted_sum(reciprocal(nz)); }, {nz});
  expect_grad_ok([&] { return weighted_sum(relu(nz)); }, {nz});
  expect_grad_ok([&] { return weighted_sum(sigmoid(a)); }, {a});
  expect_grad_ok([&] { return weighted_sum(tanh(a)); }, {a});
}

TEST(OpGrad, Matmul) {
  Var a = random_param({4, 5}, 12), b = random_param({5, 3}, 13);
  expect_grad_ok([&] { return weighted_sum(matmul(a, b)); }, {a, b});
}

TEST(OpGrad, Reductions) {
  Var a = random_param({3, 4, 2}, 14);
  expect_grad_ok([&] { return sum(a) * sum(a); }, {a});
  expect_grad_ok([&] { return weighted_sum(sum(a, 1)); }, {a});
  expect_grad_ok([&] { return weighted_sum(mean(a, 0)); }, {a});
  expect_grad_ok([&] { return mean(a) * mean(a); }, {a});
  expect_grad_ok([&] { return weighted_sum(max(a, 2)); }, {a});
  expect_grad_ok([&] { return max(a) * 2.0; }, {a});
}

TEST(OpGrad, MaxRoutesToFirstMaximum) {
  Var a = Var::parameter(Tensor::from({2, 2}, {1, 4, 4, 2}));
  sum(max(a, 1)).backward();
  EXPECT_EQ(a.grad().to_vector(), (std::vector<double>{0, 1, 1, 0}));
}

TEST(OpGrad, ShapeOps) {
  Var a = random_param({2, 6}, 15);
  expect_grad_ok([&] { return weighted_sum(reshape(a, {3, 4})); }, {a});
  expect_grad_ok([&] { return weighted_sum(transpose(a)); }, {a});
}

TEST(OpGrad, Softmax) {
  Var a = random_param({3, 5}, 16);
  expect_grad_ok([&] { return weighted_sum(softmax(a)); }, {a});
  Var v = random_param({4}, 17);
  expect_grad_ok([&] { return weighted_sum(softmax(v)); }, {v});
}

TEST(OpGrad, GradientHasParameterShape) {
  Var w = random_param({3, 1}, 18), x = random_param({5, 3}, 19), b = random_param({1}, 20);
  sum(matmul(x, w) + b).backward();
  EXPECT_EQ(w.grad().shape(), (Shape{3, 1}));
  EXPECT_EQ(b.grad().shape(), (Shape{1}));
  EXPECT_EQ(b.grad().item(), 5);
}

TEST(OpGrad, BackwardLeavesUpstreamUntouched) {
  Var a = away_from_zero({4}, 21);
  Var y = relu(a);
  Tensor upstream = Tensor::from({4}, {1, 2, 3, 4});
  y.backward(upstream);
  EXPECT_EQ(upstream.to_vector(), (std::vector<double>{1, 2, 3, 4}));
}

TEST(OpGrad, Float32Works) {
  Var a = Var::parameter(Tensor::from({2}, {1, 2}, DType::f32));
  Var y = sum(square(a));
  y.backward();
  EXPECT_EQ(a.grad().dtype(), DType::f32);
  EXPECT_EQ(a.grad().to_vector(), (std::vector<double>{2, 4}));
}

}  // namespace
}  // namespace nabla
