// Every kernel level this CPU runs (scalar; avx2 and avx512 on x86-64, neon on aarch64)
// against the scalar reference, for every tile and tail shape the kernels have: widths
// 1-70 and beyond the largest tile, rows and columns of no entry, one entry and many, runs
// of 64 pixels and their tails.
#include "kernels/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "nabla/core/cpu.h"
#include "nabla/core/tensor.h"
#include "nabla/ops/sparse.h"

namespace nabla::kernels {
namespace {

using Floats = std::vector<float>;

// The reference, and the level under test (skipped when this CPU cannot run it).
class Kernels : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    table_ = table_for(GetParam());
    if (table_ == nullptr) GTEST_SKIP() << isa_name(GetParam()) << ": this CPU cannot run it";
  }
  const Table& ref() const { return scalar_table(); }
  const Table& simd() const { return *table_; }

 private:
  const Table* table_ = nullptr;
};

std::string isa_param_name(const ::testing::TestParamInfo<Isa>& info) {
  return isa_name(info.param);
}

INSTANTIATE_TEST_SUITE_P(Levels, Kernels,
                         ::testing::Values(Isa::scalar, Isa::avx2, Isa::avx512, Isa::neon),
                         isa_param_name);

// `n` bytes, each non-zero with probability `density`.
std::vector<std::uint8_t> random_bytes(std::int64_t n, double density, Rng& rng) {
  std::vector<std::uint8_t> p(static_cast<std::size_t>(n));
  for (auto& v : p) v = rng.uniform() < density ? static_cast<std::uint8_t>(1 + rng.below(255)) : 0;
  return p;
}

Floats random_floats(std::int64_t n, Rng& rng) {
  Floats f(static_cast<std::size_t>(n));
  for (auto& v : f) v = static_cast<float>(2 * rng.uniform() - 1);
  return f;
}

// |a - b| <= 1e-5 max(1, |b|) everywhere (the SIMD sums run in another order).
void expect_close(const Floats& a, const Floats& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_NEAR(a[i], b[i], 1e-5 * std::max(1.0f, std::abs(b[i]))) << what << ", element " << i;
  }
}

TEST(KernelLevels, ScalarAlwaysRunsAndTheActiveLevelIsTheBestByDefault) {
  const std::vector<Isa> levels = runnable_isas();
  ASSERT_FALSE(levels.empty());
  EXPECT_EQ(levels.front(), Isa::scalar);
  EXPECT_NE(table_for(Isa::scalar), nullptr);
  const char* env = std::getenv("NABLA_ISA");
  if (env == nullptr || *env == '\0') {
    EXPECT_EQ(active().isa, levels.back());
  }
  EXPECT_EQ(kernel_isa(), isa_name(active().isa));
  std::string tested;
  for (Isa isa : levels) tested += std::string(" ") + isa_name(isa);
  RecordProperty("levels", tested);
  std::printf("kernel levels this CPU runs:%s; in use: %s\n", tested.c_str(), kernel_isa().c_str());
}

TEST_P(Kernels, CountAndCompressRowsOfEveryWidthAndDensity) {
  Rng rng(1);
  for (std::int64_t cols = 0; cols <= 200; ++cols) {
    for (double density : {0.0, 0.02, 0.2, 0.7, 1.0}) {
      const std::vector<std::uint8_t> row = random_bytes(cols, density, rng);
      const std::int64_t expected = ref().count_nonzeros(row.data(), cols);
      ASSERT_EQ(simd().count_nonzeros(row.data(), cols), expected) << cols << " " << density;
      // a canary after the row's entries: nothing is written past them
      std::vector<std::uint16_t> index(static_cast<std::size_t>(expected) + 64, 0xBEEF);
      std::vector<std::uint8_t> value(static_cast<std::size_t>(expected) + 64, 0xAB);
      std::vector<std::uint16_t> ref_index(index.size());
      std::vector<std::uint8_t> ref_value(value.size());
      ASSERT_EQ(simd().compress_row(row.data(), cols, index.data(), value.data()), expected);
      ref().compress_row(row.data(), cols, ref_index.data(), ref_value.data());
      for (std::int64_t e = 0; e < expected; ++e) {
        ASSERT_EQ(index[static_cast<std::size_t>(e)], ref_index[static_cast<std::size_t>(e)]);
        ASSERT_EQ(value[static_cast<std::size_t>(e)], ref_value[static_cast<std::size_t>(e)]);
        ASSERT_EQ(row[index[static_cast<std::size_t>(e)]], value[static_cast<std::size_t>(e)]);
      }
      for (std::size_t e = static_cast<std::size_t>(expected); e < index.size(); ++e) {
        ASSERT_EQ(index[e], 0xBEEF) << cols << " " << density;
        ASSERT_EQ(value[e], 0xAB) << cols << " " << density;
      }
    }
  }
  // one non-zero at each place of a 784-pixel row (MNIST's width)
  for (std::int64_t at = 0; at < 784; ++at) {
    std::vector<std::uint8_t> row(784, 0);
    row[static_cast<std::size_t>(at)] = 7;
    std::uint16_t index[2] = {0, 0xBEEF};
    std::uint8_t value[2] = {0, 0xAB};
    ASSERT_EQ(simd().count_nonzeros(row.data(), 784), 1);
    ASSERT_EQ(simd().compress_row(row.data(), 784, index, value), 1);
    EXPECT_EQ(index[0], at);
    EXPECT_EQ(value[0], 7);
    EXPECT_EQ(index[1], 0xBEEF);
    EXPECT_EQ(value[1], 0xAB);
  }
}

// The widths of y and dW: every tail (m % 16) with 0 to 4 chunks of 16, and wider ones
// that take several tiles.
std::vector<std::int64_t> widths() {
  std::vector<std::int64_t> m;
  for (std::int64_t w = 1; w <= 70; ++w) m.push_back(w);
  for (std::int64_t w : {80, 96, 100, 111, 128, 130, 144, 200}) m.push_back(w);
  return m;
}

TEST_P(Kernels, GatherEveryWidthAndRowLength) {
  Rng rng(2);
  const std::int64_t d = 40;  // rows of W (pixel columns)
  Floats scaled(256);
  for (int p = 0; p < 256; ++p) scaled[static_cast<std::size_t>(p)] = static_cast<float>(p) / 255;
  for (std::int64_t m : widths()) {
    Tensor W({d, m}, DType::f32);
    const Floats w = random_floats(d * m, rng);
    std::copy(w.begin(), w.end(), W.data<float>());
    PackedRows packed;
    packed.pack(W);
    const PackedView view{packed.main(), packed.main_cols(), packed.tail(), packed.tail_cols(),
                          packed.tail_stride()};
    for (std::int64_t entries : {0, 1, 2, 3, 4, 5, 17, 40}) {
      // a row with `entries` entries at distinct columns, after 3 entries of another row
      std::vector<std::uint16_t> index;
      std::vector<std::uint8_t> value;
      for (std::int64_t e = 0; e < entries + 3; ++e) {
        index.push_back(static_cast<std::uint16_t>(e < 3 ? e : (e * 7) % d));
        value.push_back(static_cast<std::uint8_t>(rng.below(256)));
      }
      const Entries row{index.data(), value.data(), 3, 3 + entries};
      Floats y = random_floats(m, rng), expected = y;  // y += ...: starts non-zero
      // one float past y: a canary
      y.push_back(42.0f);
      simd().gather(row, scaled.data(), view, y.data());
      ref().gather(row, scaled.data(), view, expected.data());
      EXPECT_EQ(y.back(), 42.0f) << "m " << m;
      y.pop_back();
      expect_close(y, expected,
                   "m " + std::to_string(m) + ", " + std::to_string(entries) + " entries");
    }
  }
}

TEST_P(Kernels, ColumnsEveryWidthAndColumnLength) {
  Rng rng(3);
  Floats scaled(256);
  for (int p = 0; p < 256; ++p) scaled[static_cast<std::size_t>(p)] = static_cast<float>(p) / 255;
  const std::int64_t n = 30;  // rows of the batch
  for (std::int64_t m : widths()) {
    const std::int64_t stride = (m + 15) / 16 * 16;
    // d (n, stride), 64-byte aligned rows, the padding zero
    Tensor padded = Tensor::zeros({n, stride}, DType::f32);
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t j = 0; j < m; ++j) {
        padded.data<float>()[i * stride + j] = static_cast<float>(2 * rng.uniform() - 1);
      }
    }
    // columns of 0, 1, 2, 3, ..., 9 and 30 entries
    std::vector<std::int64_t> begin{0};
    std::vector<std::uint32_t> entries;
    for (std::int64_t count : {0, 1, 2, 3, 0, 4, 5, 9, 30, 1}) {
      for (std::int64_t e = 0; e < count; ++e) {
        const auto row = static_cast<std::uint32_t>((e * 11 + count) % n);
        entries.push_back(row << 8 | static_cast<std::uint32_t>(rng.below(256)));
      }
      begin.push_back(static_cast<std::int64_t>(entries.size()));
    }
    const std::int64_t cols = static_cast<std::int64_t>(begin.size()) - 1;
    const Floats start = random_floats(cols * m, rng);  // dw += ...: starts non-zero
    // a band [1, cols - 1): the rows of dw outside it stay as they were
    Floats dw = start, expected = start;
    simd().columns(begin.data(), entries.data(), 1, cols - 1, scaled.data(), padded.data<float>(),
                   stride, m, dw.data());
    ref().columns(begin.data(), entries.data(), 1, cols - 1, scaled.data(), padded.data<float>(),
                  stride, m, expected.data());
    expect_close(dw, expected, "m " + std::to_string(m));
    for (std::int64_t j = 0; j < m; ++j) {
      ASSERT_EQ(dw[static_cast<std::size_t>(j)], start[static_cast<std::size_t>(j)]);
      const auto last = static_cast<std::size_t>((cols - 1) * m + j);
      ASSERT_EQ(dw[last], start[last]);
    }
  }
}

TEST_P(Kernels, SoftmaxRowsOfEveryLength) {
  Rng rng(4);
  for (std::int64_t c = 1; c <= 40; ++c) {
    for (double spread : {0.1, 5.0, 60.0, 300.0}) {  // 300: most exps underflow to 0
      Floats s(static_cast<std::size_t>(c));
      for (auto& v : s) v = static_cast<float>(spread * (2 * rng.uniform() - 1));
      Floats y(static_cast<std::size_t>(c) + 1, 42.0f), expected(static_cast<std::size_t>(c));
      const double log_sum = simd().softmax_row_f32(s.data(), c, y.data());
      const double ref_log_sum = ref().softmax_row_f32(s.data(), c, expected.data());
      EXPECT_EQ(y.back(), 42.0f) << "c " << c;  // nothing written past the row
      y.pop_back();
      EXPECT_NEAR(log_sum, ref_log_sum, 1e-5 * std::max(1.0, std::abs(ref_log_sum)));
      for (std::size_t j = 0; j < expected.size(); ++j) {
        // relative to the value, down to float's smallest normal
        ASSERT_NEAR(y[j], expected[j], 2e-6 * std::abs(expected[j]) + 1e-37)
            << "c " << c << ", spread " << spread << ", j " << j;
      }
      std::vector<double> sd(s.begin(), s.end()), yd(s.size()), ed(s.size());
      EXPECT_DOUBLE_EQ(simd().softmax_row_f64(sd.data(), c, yd.data()),
                       ref().softmax_row_f64(sd.data(), c, ed.data()));
      EXPECT_EQ(yd, ed);
    }
  }
  // NaN stays NaN
  Floats s = {0.0f, std::numeric_limits<float>::quiet_NaN(), 1.0f}, y(3);
  simd().softmax_row_f32(s.data(), 3, y.data());
  EXPECT_TRUE(std::isnan(y[1]));
}

TEST_P(Kernels, ReluEveryLength) {
  Rng rng(5);
  for (std::int64_t n = 0; n <= 70; ++n) {
    Floats x = random_floats(n, rng);
    if (n > 2) x[1] = 0.0f, x[2] = -0.0f;
    Floats out(static_cast<std::size_t>(n)), expected(out.size());
    std::vector<std::uint8_t> mask(out.size()), ref_mask(out.size());
    simd().relu_f32(x.data(), n, out.data(), mask.data());
    ref().relu_f32(x.data(), n, expected.data(), ref_mask.data());
    EXPECT_EQ(out, expected);
    EXPECT_EQ(mask, ref_mask);
    for (std::size_t i = 0; i < x.size(); ++i) {
      ASSERT_EQ(out[i], x[i] > 0 ? x[i] : 0.0f);
      ASSERT_EQ(mask[i], x[i] <= 0 ? 1 : 0);
    }
    // backward: the gradient where the input was positive, else 0
    const Floats dout = random_floats(n, rng);
    Floats dx(out.size()), ref_dx(out.size());
    simd().relu_backward_f32(dout.data(), mask.data(), n, dx.data());
    ref().relu_backward_f32(dout.data(), mask.data(), n, ref_dx.data());
    EXPECT_EQ(dx, ref_dx);
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(dx[i], x[i] > 0 ? dout[i] : 0.0f);
    std::vector<double> xd(x.begin(), x.end()), od(xd.size()), ed(xd.size());
    simd().relu_f64(xd.data(), n, od.data(), mask.data());
    ref().relu_f64(xd.data(), n, ed.data(), ref_mask.data());
    EXPECT_EQ(od, ed);
    EXPECT_EQ(mask, ref_mask);
    std::vector<double> dd(dout.begin(), dout.end()), dxd(dd.size()), ref_dxd(dd.size());
    simd().relu_backward_f64(dd.data(), mask.data(), n, dxd.data());
    ref().relu_backward_f64(dd.data(), mask.data(), n, ref_dxd.data());
    EXPECT_EQ(dxd, ref_dxd);
  }
}

TEST_P(Kernels, MaxPool2x2MatchesTheWindowsAndTheReference) {
  Rng rng(7);
  // widths of 1-33 outputs: one masked chunk of 16 and more, halves of 8 either side
  for (auto [h, w] : {std::pair{2, 2}, std::pair{4, 6}, std::pair{5, 7}, std::pair{24, 24},
                      std::pair{3, 66}, std::pair{12, 34}, std::pair{2, 16}, std::pair{4, 18},
                      std::pair{6, 32}, std::pair{2, 30}, std::pair{7, 35}}) {
    // small integers: many ties, which must go to the first maximum in row-major order
    Floats x(static_cast<std::size_t>(h * w));
    for (float& v : x) v = static_cast<float>(rng.below(5)) - 2.0f;
    const std::size_t outputs = static_cast<std::size_t>((h / 2) * (w / 2));
    Floats out(outputs), ref_out(outputs);
    std::vector<std::int32_t> arg(outputs), ref_arg(outputs);
    simd().max_pool2x2_f32(x.data(), h, w, out.data(), arg.data());
    ref().max_pool2x2_f32(x.data(), h, w, ref_out.data(), ref_arg.data());
    EXPECT_EQ(out, ref_out);
    EXPECT_EQ(arg, ref_arg);
    for (int i = 0; i < h / 2; ++i)
      for (int j = 0; j < w / 2; ++j) {
        int best = 2 * i * w + 2 * j;
        for (int at : {best + 1, best + w, best + w + 1}) {
          if (x[static_cast<std::size_t>(at)] > x[static_cast<std::size_t>(best)]) best = at;
        }
        const auto o = static_cast<std::size_t>(i * (w / 2) + j);
        ASSERT_EQ(arg[o], best) << h << "x" << w << " window " << i << "," << j;
        ASSERT_EQ(out[o], x[static_cast<std::size_t>(best)]);
      }
    // float64 as float32
    std::vector<double> xd(x.begin(), x.end()), od(outputs);
    std::vector<std::int32_t> argd(outputs);
    simd().max_pool2x2_f64(xd.data(), h, w, od.data(), argd.data());
    EXPECT_EQ(argd, arg);
    EXPECT_EQ(std::vector<double>(out.begin(), out.end()), od);
  }
}

// NaN and signed zeros: the maximum, its position and the gradient's bits as the plain loop's.
TEST_P(Kernels, MaxPool2x2KeepsThePlainLoopsBitsOnNanAndZeros) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (auto [h, w] : {std::pair{2, 4}, std::pair{4, 24}, std::pair{2, 34}}) {
    Floats x(static_cast<std::size_t>(h * w));
    const float values[] = {nan, 0.0f, -0.0f, 1.0f, -1.0f, nan, -0.0f, 0.0f, 1.0f};
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = values[(i * 7 + i / 3) % 9];
    const std::size_t outputs = static_cast<std::size_t>((h / 2) * (w / 2));
    Floats out(outputs), ref_out(outputs);
    std::vector<std::int32_t> arg(outputs), ref_arg(outputs);
    simd().max_pool2x2_f32(x.data(), h, w, out.data(), arg.data());
    ref().max_pool2x2_f32(x.data(), h, w, ref_out.data(), ref_arg.data());
    EXPECT_EQ(arg, ref_arg) << h << "x" << w;
    EXPECT_EQ(0, std::memcmp(out.data(), ref_out.data(), outputs * sizeof(float))) << h << "x" << w;
    // gradients of NaN and -0 go through as they are
    Floats dout(outputs);
    for (std::size_t o = 0; o < outputs; ++o) dout[o] = values[o % 9];
    Floats dx(x.size(), 5.0f), ref_dx(x.size(), 5.0f);
    simd().max_pool2x2_backward_f32(dout.data(), arg.data(), h, w, dx.data());
    ref().max_pool2x2_backward_f32(dout.data(), arg.data(), h, w, ref_dx.data());
    EXPECT_EQ(0, std::memcmp(dx.data(), ref_dx.data(), x.size() * sizeof(float))) << h << "x" << w;
  }
}

// The backward puts each output's gradient at its maximum and zeros everywhere else
// (the unpooled last row and column of odd sizes too), as the reference.
TEST_P(Kernels, MaxPool2x2BackwardRoutesToTheMaxima) {
  Rng rng(8);
  for (auto [h, w] : {std::pair{2, 2}, std::pair{4, 6}, std::pair{5, 7}, std::pair{24, 24},
                      std::pair{3, 66}, std::pair{12, 34}, std::pair{2, 16}, std::pair{4, 18},
                      std::pair{6, 32}, std::pair{2, 30}, std::pair{7, 35}}) {
    const Floats x = random_floats(h * w, rng);
    const std::size_t outputs = static_cast<std::size_t>((h / 2) * (w / 2));
    Floats out(outputs);
    std::vector<std::int32_t> arg(outputs);
    ref().max_pool2x2_f32(x.data(), h, w, out.data(), arg.data());
    const Floats dout = random_floats(static_cast<std::int64_t>(outputs), rng);
    Floats dx(x.size(), 9.0f), ref_dx(x.size(), 9.0f);  // every element is written
    simd().max_pool2x2_backward_f32(dout.data(), arg.data(), h, w, dx.data());
    ref().max_pool2x2_backward_f32(dout.data(), arg.data(), h, w, ref_dx.data());
    EXPECT_EQ(dx, ref_dx) << h << "x" << w;
    Floats expected(x.size(), 0.0f);
    for (std::size_t o = 0; o < outputs; ++o) expected[static_cast<std::size_t>(arg[o])] = dout[o];
    EXPECT_EQ(dx, expected) << h << "x" << w;
    // float64 as float32
    std::vector<double> dd(dout.begin(), dout.end()), dxd(x.size(), 9.0);
    simd().max_pool2x2_backward_f64(dd.data(), arg.data(), h, w, dxd.data());
    EXPECT_EQ(std::vector<double>(expected.begin(), expected.end()), dxd) << h << "x" << w;
  }
}

// Blocks of 0-3 rows of 0-40 columns between strided rows, float and double, nothing
// written outside them.
TEST_P(Kernels, CopyRowsCopiesTheBlockOnly) {
  Rng rng(9);
  for (std::int64_t rows : {0, 1, 3})
    for (std::int64_t cols : {0, 1, 7, 8, 15, 16, 17, 24, 31, 32, 33, 40}) {
      const std::int64_t src_stride = cols + 5, dst_stride = cols + 3;
      const Floats src = random_floats(rows * src_stride + 1, rng);
      Floats dst(static_cast<std::size_t>(rows * dst_stride + 1), 7.0f), expected = dst;
      for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t t = 0; t < cols; ++t)
          expected[static_cast<std::size_t>(r * dst_stride + t)] =
              src[static_cast<std::size_t>(r * src_stride + t)];
      simd().copy_rows_f32(src.data(), src_stride, rows, cols, dst.data(), dst_stride);
      EXPECT_EQ(dst, expected) << rows << "x" << cols;
      std::vector<double> srcd(src.begin(), src.end()), dstd(dst.size(), 7.0);
      simd().copy_rows_f64(srcd.data(), src_stride, rows, cols, dstd.data(), dst_stride);
      EXPECT_EQ(dstd, std::vector<double>(expected.begin(), expected.end())) << rows << "x" << cols;
    }
}

// The direct convolution against a double-precision sum of its definition, over shapes
// whose rows end anywhere in a vector (ow from 1 to 29) and filter counts around the
// kernels' blocks; then its weight gradient the same way.
TEST_P(Kernels, ConvValidMatchesItsDefinition) {
  Rng rng(10);
  struct Case {
    std::int64_t c, h, w, f, kh, kw;
  };
  for (const Case& g : {Case{1, 28, 28, 30, 5, 5}, Case{1, 5, 5, 1, 5, 5}, Case{2, 7, 9, 3, 3, 3},
                        Case{3, 12, 33, 5, 2, 7}, Case{1, 3, 13, 6, 1, 1}, Case{2, 10, 16, 2, 3, 4},
                        Case{1, 9, 31, 7, 2, 6}, Case{4, 6, 20, 9, 3, 5}}) {
    const kernels::ConvShape s{g.c, g.h, g.w, g.f, g.kh, g.kw, g.h - g.kh + 1, g.w - g.kw + 1};
    const std::int64_t depth = g.c * g.kh * g.kw, plane = s.oh * s.ow;
    const Floats x = random_floats(g.c * g.h * g.w, rng), w = random_floats(g.f * depth, rng),
                 b = random_floats(g.f, rng), dout = random_floats(g.f * plane, rng);
    Floats out(static_cast<std::size_t>(g.f * plane + 1), 7.0f);
    simd().conv_valid_f32(s, x.data(), w.data(), b.data(), out.data());
    Floats dw = random_floats(g.f * depth, rng), db = random_floats(g.f, rng);
    const Floats dw0 = dw, db0 = db;
    simd().conv_valid_weight_grad_f32(s, x.data(), dout.data(), dw.data(), db.data());
    auto at = [&](const Floats& v, std::int64_t i) { return double{v[static_cast<std::size_t>(i)]}; };
    for (std::int64_t k = 0; k < g.f; ++k) {
      for (std::int64_t i = 0; i < s.oh; ++i)
        for (std::int64_t j = 0; j < s.ow; ++j) {
          double sum = at(b, k);
          for (std::int64_t ch = 0; ch < g.c; ++ch)
            for (std::int64_t u = 0; u < g.kh; ++u)
              for (std::int64_t v = 0; v < g.kw; ++v)
                sum += at(w, k * depth + (ch * g.kh + u) * g.kw + v) *
                       at(x, (ch * g.h + i + u) * g.w + j + v);
          ASSERT_NEAR(at(out, (k * s.oh + i) * s.ow + j), sum, 1e-5 * (1 + std::abs(sum)))
              << g.c << "x" << g.h << "x" << g.w << " f " << g.f << " k " << k << " at " << i
              << "," << j;
        }
      double bias = at(db0, k);
      for (std::int64_t o = 0; o < plane; ++o) bias += at(dout, k * plane + o);
      ASSERT_NEAR(at(db, k), bias, 1e-5 * (1 + std::abs(bias))) << k;
      for (std::int64_t ch = 0; ch < g.c; ++ch)
        for (std::int64_t u = 0; u < g.kh; ++u)
          for (std::int64_t v = 0; v < g.kw; ++v) {
            const std::int64_t tap = k * depth + (ch * g.kh + u) * g.kw + v;
            double sum = at(dw0, tap);
            for (std::int64_t i = 0; i < s.oh; ++i)
              for (std::int64_t j = 0; j < s.ow; ++j)
                sum += at(dout, k * plane + i * s.ow + j) * at(x, (ch * g.h + i + u) * g.w + j + v);
            ASSERT_NEAR(at(dw, tap), sum, 1e-4 * (1 + std::abs(sum)))
                << g.c << "x" << g.h << "x" << g.w << " f " << g.f << " tap " << tap;
          }
    }
    EXPECT_EQ(out.back(), 7.0f) << "wrote past the output";
  }
}

TEST_P(Kernels, L1DistanceEveryLength) {
  Rng rng(6);
  for (std::int64_t n : {0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 784}) {
    const std::vector<std::uint8_t> a = random_bytes(n, 0.5, rng), b = random_bytes(n, 0.5, rng);
    std::int64_t expected = 0;
    for (std::size_t i = 0; i < a.size(); ++i) expected += std::abs(int{a[i]} - int{b[i]});
    EXPECT_EQ(simd().l1_distance(a.data(), b.data(), n), expected) << n;
    EXPECT_EQ(ref().l1_distance(a.data(), b.data(), n), expected) << n;
  }
  // the largest difference everywhere
  const std::vector<std::uint8_t> zeros(784, 0), full(784, 255);
  EXPECT_EQ(simd().l1_distance(zeros.data(), full.data(), 784), 784 * 255);
}

}  // namespace
}  // namespace nabla::kernels
