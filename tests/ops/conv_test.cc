// Convolution and pooling ops: im2col against the textbook's layout, conv2d against the
// formula written as loops, and every gradient checked numerically in float64.
#include "nabla/ops/conv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nabla/autograd/gradcheck.h"
#include "nabla/ops/ops.h"
#include "nabla/ops/pool.h"

namespace nabla {
namespace {

Tensor counting(Shape shape) {
  Tensor t(shape, DType::f64);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, static_cast<double>(i + 1));
  return t;
}

TEST(Im2col, TextbookFourByFourWithTwoByTwoFilter) {
  // x = [[1..4], [5..8], [9..12], [13..16]]: each row of cols is one 2x2 field.
  Tensor cols = im2col(counting({1, 1, 4, 4}), {2, 2, 1, 0});
  ASSERT_EQ(cols.shape(), (Shape{9, 4}));
  EXPECT_EQ(to_string(cols),
            "[[1, 2, 5, 6], [2, 3, 6, 7], [3, 4, 7, 8], [5, 6, 9, 10], [6, 7, 10, 11], "
            "[7, 8, 11, 12], [9, 10, 13, 14], [10, 11, 14, 15], [11, 12, 15, 16]]");
}

TEST(Im2col, PaddingReadsZeroAndStrideSkips) {
  Tensor cols = im2col(counting({1, 1, 3, 3}), {2, 2, 2, 1});
  // padded to 5x5, fields at (0,0), (0,2), (2,0), (2,2)
  EXPECT_EQ(to_string(cols), "[[0, 0, 0, 1], [0, 0, 2, 3], [0, 4, 0, 7], [5, 6, 8, 9]]");
}

TEST(Im2col, Col2imIsItsAdjoint) {
  // <im2col(x), c> = <x, col2im(c)> for any x and c: col2im adds overlapping fields up.
  Rng rng(3);
  const Window2d win{3, 2, 2, 1};
  Tensor x = Tensor::randn({2, 3, 5, 6}, rng, 1.0, DType::f64);
  Tensor cols = im2col(x, win);
  Tensor c = Tensor::randn(cols.shape(), rng, 1.0, DType::f64);
  const double left = sum(mul(cols, c)).item();
  const double right = sum(mul(x, col2im(c, x.shape(), win))).item();
  EXPECT_NEAR(left, right, 1e-10 * std::abs(left));
  EXPECT_GT(std::abs(left), 0.1);
}

// out[n, f, i, j] = sum_{c,u,v} x[n, c, i S + u - P, j S + v - P] w[f, c, u, v] + b[f]
Tensor conv_by_loops(const Tensor& x, const Tensor& w, const Tensor& b, std::int64_t s,
                     std::int64_t p) {
  const std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3);
  const std::int64_t f = w.size(0), kh = w.size(2), kw = w.size(3);
  const std::int64_t oh = (h + 2 * p - kh) / s + 1, ow = (wd + 2 * p - kw) / s + 1;
  Tensor out({n, f, oh, ow}, DType::f64);
  for (std::int64_t a = 0; a < n; ++a)
    for (std::int64_t k = 0; k < f; ++k)
      for (std::int64_t i = 0; i < oh; ++i)
        for (std::int64_t j = 0; j < ow; ++j) {
          double total = b.get(k);
          for (std::int64_t ch = 0; ch < c; ++ch)
            for (std::int64_t u = 0; u < kh; ++u)
              for (std::int64_t v = 0; v < kw; ++v) {
                const std::int64_t y = i * s + u - p, xx = j * s + v - p;
                if (y < 0 || y >= h || xx < 0 || xx >= wd) continue;
                total += x.at({a, ch, y, xx}) * w.at({k, ch, u, v});
              }
          out.set(((a * f + k) * oh + i) * ow + j, total);
        }
  return out;
}

TEST(Conv2d, MatchesTheFormula) {
  Rng rng(5);
  for (auto [stride, pad] : {std::pair{1, 0}, std::pair{2, 1}, std::pair{1, 2}}) {
    Tensor x = Tensor::randn({2, 3, 7, 6}, rng, 1.0, DType::f64);
    Tensor w = Tensor::randn({4, 3, 3, 2}, rng, 1.0, DType::f64);
    Tensor b = Tensor::randn({4}, rng, 1.0, DType::f64);
    Tensor expected = conv_by_loops(x, w, b, stride, pad);
    Tensor out = conv2d(x, w, b, stride, pad);
    ASSERT_EQ(out.shape(), expected.shape());
    EXPECT_LT(max_abs_diff(out, expected), 1e-12) << stride << "," << pad;
    Var recorded = conv2d(Var::constant(x), Var::constant(w), Var::constant(b), stride, pad);
    EXPECT_EQ(max_abs_diff(recorded.value(), out), 0.0);
  }
}

TEST(Conv2d, GradientsMatchNumerical) {
  Rng rng(7);
  Var x = Var::parameter(Tensor::randn({2, 2, 5, 5}, rng, 1.0, DType::f64), "x");
  Var w = Var::parameter(Tensor::randn({3, 2, 3, 3}, rng, 1.0, DType::f64), "w");
  Var b = Var::parameter(Tensor::randn({3}, rng, 1.0, DType::f64), "b");
  Tensor weights = Tensor::randn({2, 3, 3, 3}, rng, 1.0, DType::f64);  // a loss that mixes outputs
  auto f = [&] { return sum(mul(conv2d(x, w, b, 2, 1), Var::constant(weights))); };
  GradCheckReport r = gradient_check(f, {x, w, b});
  EXPECT_LT(r.max_rel_error(), 1e-7);
  ASSERT_EQ(r.params.size(), 3u);
}

// float32 with stride 1 goes through the kernel layer's direct convolution (padding from a
// padded copy of each image): its output and all three gradients against float64's
// im2col path, on an image whose rows end inside a vector (9 and 26 columns).
TEST(Conv2d, Float32DirectKernelsMatchFloat64) {
  Rng rng(11);
  for (auto [shape, pad] : {std::pair{Shape{3, 2, 7, 9}, 0}, std::pair{Shape{3, 2, 7, 9}, 2},
                            std::pair{Shape{5, 1, 28, 30}, 0}, std::pair{Shape{2, 3, 6, 26}, 1}}) {
    const Tensor x64 = Tensor::randn(shape, rng, 1.0, DType::f64);
    const Tensor w64 = Tensor::randn({6, shape[1], 5, 3}, rng, 1.0, DType::f64);
    const Tensor b64 = Tensor::randn({6}, rng, 1.0, DType::f64);
    const Tensor out64 = conv2d(x64, w64, b64, 1, pad);
    const Tensor mix64 = Tensor::randn(out64.shape(), rng, 1.0, DType::f64);
    auto grads = [&](DType dtype) {
      Var x = Var::parameter(x64.to(dtype), "x"), w = Var::parameter(w64.to(dtype), "w"),
          b = Var::parameter(b64.to(dtype), "b");
      Var out = conv2d(x, w, b, 1, pad);
      sum(mul(out, Var::constant(mix64.to(dtype)))).backward();
      return std::vector<Tensor>{out.value().to(DType::f64), x.grad().to(DType::f64),
                                 w.grad().to(DType::f64), b.grad().to(DType::f64)};
    };
    const std::vector<Tensor> want = grads(DType::f64), got = grads(DType::f32);
    const char* names[] = {"out", "dx", "dw", "db"};
    for (std::size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(got[i].shape(), want[i].shape()) << names[i];
      double scale = 1;
      for (double v : want[i].to_vector()) scale = std::max(scale, std::abs(v));
      EXPECT_LT(max_abs_diff(got[i], want[i]), 2e-5 * scale)
          << names[i] << " of " << shape_str(shape) << " pad " << pad;
    }
    EXPECT_LT(max_abs_diff(want[0], out64), 1e-12);
  }
}

TEST(Pool, MaxRoutesTheGradientToEachWindowsMaximum) {
  // x = [[1, 3], [4, 2]] in each 2x2 window: the max is 4 (bottom left)
  Var x = Var::parameter(Tensor::from({1, 1, 2, 4}, {1, 3, 8, 5, 4, 2, 6, 7}), "x");
  Var y = max_pool2d(x, 2, 2);
  EXPECT_EQ(to_string(y.value()), "[[[[4, 8]]]]");
  y.backward(Tensor::from({1, 1, 1, 2}, {10, 20}));
  EXPECT_EQ(to_string(x.grad()), "[[[[0, 0, 20, 0], [10, 0, 0, 0]]]]");
}

TEST(Pool, AverageSpreadsTheGradient) {
  Var x = Var::parameter(counting({1, 1, 4, 4}), "x");
  Var y = avg_pool2d(x, 2, 2);
  EXPECT_EQ(to_string(y.value()), "[[[[3.5, 5.5], [11.5, 13.5]]]]");
  y.backward(Tensor::from({1, 1, 2, 2}, {4, 8, 12, 16}));
  EXPECT_EQ(to_string(x.grad()), "[[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]]");
}

TEST(Pool, GradientsMatchNumerical) {
  // Distinct values, far apart: the max stays the max under a small perturbation.
  Rng rng(11);
  Tensor values({2, 3, 6, 6}, DType::f64);
  for (std::int64_t i = 0; i < values.numel(); ++i) {
    values.set(i, static_cast<double>((i * 37) % values.numel()) * 0.01);
  }
  Var x = Var::parameter(values, "x");
  Tensor weights = Tensor::randn({2, 3, 3, 3}, rng, 1.0, DType::f64);
  auto max_loss = [&] { return sum(mul(max_pool2d(x, 2, 2), Var::constant(weights))); };
  EXPECT_LT(gradient_check(max_loss, {x}).max_rel_error(), 1e-7);
  Tensor weights2 = Tensor::randn({2, 3, 2, 2}, rng, 1.0, DType::f64);
  auto avg_loss = [&] { return sum(mul(avg_pool2d(x, 3, 2), Var::constant(weights2))); };
  EXPECT_LT(gradient_check(avg_loss, {x}).max_rel_error(), 1e-7);
}

std::string shape_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ShapeError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Conv2d, ShapeErrorsNameTheOpAndShapes) {
  Tensor x({2, 3, 5, 5}, DType::f64), b({4}, DType::f64);
  EXPECT_EQ(shape_error([&] {
              conv2d(Tensor({2, 3, 5}, DType::f64), Tensor({4, 3, 3, 3}, DType::f64), b);
            }),
            "conv2d: expected an input of shape (N, C, H, W), got (2,3,5)");
  EXPECT_EQ(shape_error([&] {
              conv2d(x, Tensor({4, 2, 3, 3}, DType::f64), b);
            }),
            "conv2d: expected weights (F, 3, KH, KW) for an input (2,3,5,5), got (4,2,3,3)");
  EXPECT_EQ(shape_error([&] {
              conv2d(x, Tensor({4, 3, 3, 3}, DType::f64), Tensor({3}, DType::f64));
            }),
            "conv2d: expected a bias (4) for weights (4,3,3,3), got (3)");
  EXPECT_EQ(shape_error([&] {
              conv2d(x, Tensor({4, 3, 7, 3}, DType::f64), b);
            }),
            "conv2d: a kernel of 7 does not fit an input height of 5 padded by 0");
  EXPECT_EQ(shape_error([&] { max_pool2d(Var(x), 2, 0); }),
            "max_pool2d: kernel 2, stride 0, pad 0: kernel and stride must be at least 1, pad at "
            "least 0");
}

}  // namespace
}  // namespace nabla
