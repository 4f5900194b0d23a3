#include "nabla/core/tensor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "nabla/ops/ops.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;

TEST(Tensor, ZerosHaveShapeAndDtype) {
  Tensor t({2, 3}, DType::f64);
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.dtype(), DType::f64);
  for (std::int64_t i = 0; i < 6; ++i) EXPECT_EQ(t.get(i), 0.0);
}

TEST(Tensor, FromIsRowMajor) {
  Tensor t = Tensor::from({2, 2}, {1.0, -0.5, -2.0, 3.0});
  EXPECT_EQ(t.at({0, 1}), -0.5);
  EXPECT_EQ(t.at({1, 0}), -2.0);
  EXPECT_EQ(t.to_vector(), (std::vector<double>{1.0, -0.5, -2.0, 3.0}));
}

TEST(Tensor, FromChecksCount) { EXPECT_THROW(Tensor::from({2, 2}, {1.0, 2.0, 3.0}), ShapeError); }

TEST(Tensor, ElementCountThatOverflowsIsAnError) {
  const std::int64_t big = std::int64_t{1} << 62;
  EXPECT_EQ(shape_numel({big, 4, 0}), 0);  // empty, whatever the others multiply to
  EXPECT_EQ(shape_numel({big, 1}), big);
  try {
    shape_numel({big, 4});
    ADD_FAILURE() << "no error";
  } catch (const ShapeError& e) {
    EXPECT_STREQ(e.what(), "shape (4611686018427387904,4): more elements than can be counted");
  }
  EXPECT_THROW(shape_numel({3, -1}), ShapeError);
  EXPECT_THROW(Tensor({big, 2, 2}), ShapeError);
}

TEST(Tensor, CopyIsDeep) {
  Tensor a = Tensor::from({2}, {1.0, 2.0});
  Tensor b = a;
  b.set(0, 9.0);
  EXPECT_EQ(a.get(0), 1.0);
  EXPECT_EQ(b.get(0), 9.0);
}

TEST(Tensor, DefaultIsUndefined) {
  Tensor t;
  EXPECT_FALSE(t.defined());
  EXPECT_TRUE(Tensor::scalar(1.0).defined());
}

TEST(Tensor, ScalarItem) {
  EXPECT_EQ(Tensor::scalar(2.5).item(), 2.5);
  EXPECT_EQ(Tensor::scalar(2.5).rank(), 0);
  EXPECT_THROW(Tensor({2}).item(), ShapeError);
}

TEST(Tensor, ReshapeKeepsElementsAndInfersOneAxis) {
  Tensor t = Tensor::from({2, 3}, {0, 1, 2, 3, 4, 5});
  Tensor r = t.reshape({3, -1});
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  EXPECT_EQ(r.at({2, 1}), 5.0);
  try {
    (void)t.reshape({4, 2});
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("(2,3) -> (4,2)"));
  }
}

TEST(Tensor, ConvertsDtype) {
  Tensor t = Tensor::from({2}, {0.1, 1e10}, DType::f64);
  Tensor f = t.to(DType::f32);
  EXPECT_EQ(f.dtype(), DType::f32);
  EXPECT_FLOAT_EQ(static_cast<float>(f.get(0)), 0.1f);
  EXPECT_THROW(f.data<double>(), ValueError);
}

TEST(Tensor, IntegerDtypes) {
  EXPECT_STREQ(dtype_name(DType::i64), "int64");
  EXPECT_STREQ(dtype_name(DType::i32), "int32");
  EXPECT_EQ(dtype_size(DType::i64), 8u);
  EXPECT_EQ(dtype_size(DType::i32), 4u);
  EXPECT_FALSE(is_floating(DType::i64));
  EXPECT_TRUE(is_floating(DType::f32));

  Tensor ids({2, 2}, DType::i64);
  std::int64_t* p = ids.data<std::int64_t>();
  p[0] = 3;
  p[3] = std::int64_t{1} << 40;
  EXPECT_EQ(ids.nbytes(), 32u);
  EXPECT_EQ(ids.at({1, 1}), 1099511627776.0);
  EXPECT_EQ(to_string(ids), "[[3, 0], [0, 1099511627776]]");
  Tensor copy = ids;  // deep, like every tensor
  copy.data<std::int64_t>()[0] = 9;
  EXPECT_EQ(p[0], 3);
  EXPECT_THROW(ids.data<float>(), ValueError);
  EXPECT_THROW(ids.data<std::int32_t>(), ValueError);

  EXPECT_EQ(ids.to(DType::f32).to_vector(), (std::vector<double>{3, 0, 0, 1099511627776.0}));
  Tensor back = Tensor::from({3}, {2.9, -2.9, 7}).to(DType::i32);  // truncates toward zero
  EXPECT_EQ(back.to_vector(), (std::vector<double>{2, -2, 7}));
  try {
    Tensor::from({2}, {1, std::nan("")}).to(DType::i64);
    ADD_FAILURE() << "no error";
  } catch (const ValueError& e) {
    EXPECT_THAT(e.what(), HasSubstr("does not fit in int64"));
  }
  Tensor filled = Tensor::full({2}, 5, DType::i64);
  EXPECT_EQ(filled.data<std::int64_t>()[1], 5);
}

TEST(Tensor, ArithmeticRefusesIntegerTensors) {
  Tensor ids({2, 3}, DType::i64);
  auto message = [](auto f) {
    try {
      f();
    } catch (const ValueError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([&] { exp(ids); }),
            "exp: expects a float32 or float64 tensor, got int64 (2,3)");
  EXPECT_EQ(message([&] { add(ids, ids); }),
            "add: expects a float32 or float64 tensor, got int64 (2,3)");
  EXPECT_THAT(message([&] {
                matmul(ids, Tensor({3, 2}, DType::i64));
              }),
              HasSubstr("matmul: expects a float32 or float64 tensor, got int64"));
  EXPECT_THAT(message([&] { sum(ids); }), HasSubstr("sum: expects a float32"));
  // an op without a check of its own still refuses, naming the dtype
  EXPECT_THAT(message([&] { sum(ids, 0); }), HasSubstr("integer tensor (int64)"));
}

TEST(Tensor, AtChecksBounds) {
  Tensor t({2, 2});
  EXPECT_THROW(t.at({2, 0}), ValueError);
  EXPECT_THROW(t.at({0}), ValueError);
}

TEST(Tensor, DataIs64ByteAligned) {
  Tensor t({7, 3});
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.raw()) % 64, 0u);
}

TEST(Tensor, EmptyHasShapeAndWritableStorage) {
  Tensor t = Tensor::empty({3, 4}, DType::f64);
  EXPECT_TRUE(t.defined());
  EXPECT_EQ(t.shape(), (Shape{3, 4}));
  EXPECT_EQ(t.dtype(), DType::f64);
  EXPECT_EQ(t.numel(), 12);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.set(i, static_cast<double>(i));
  EXPECT_EQ(t.at({2, 3}), 11.0);
  Tensor none = Tensor::empty({0, 5});
  EXPECT_TRUE(none.defined());
  EXPECT_EQ(none.numel(), 0);
}

TEST(Tensor, ResizeReusesStorage) {
  Tensor t({100, 10});
  const void* before = t.raw();
  t.resize({10, 100}, DType::f32);
  EXPECT_EQ(t.raw(), before);
  t.resize({5, 5}, DType::f32);
  EXPECT_EQ(t.raw(), before);
  EXPECT_EQ(t.shape(), (Shape{5, 5}));
}

TEST(Tensor, RandnHasRequestedSpread) {
  Rng rng(1);
  Tensor t = Tensor::randn({100000}, rng, 0.01, DType::f64);
  double sum = 0, sq = 0;
  for (double v : t.to_vector()) {
    sum += v;
    sq += v * v;
  }
  double mean = sum / 100000, var = sq / 100000 - mean * mean;
  EXPECT_NEAR(mean, 0.0, 1e-4);
  EXPECT_NEAR(std::sqrt(var), 0.01, 2e-4);
}

// uniform_cut(p) splits the engine's draws exactly where uniform() crosses p: the same
// decisions, draw by draw, from two generators with one seed.
TEST(Rng, UniformCutDecidesAsUniformDoes) {
  for (double p : {0.0, 1e-12, 0.1, 0.25, 1.0 / 3.0, 0.5, 0.9, 0.999999}) {
    Rng a(7), b(7);
    const std::uint64_t cut = b.uniform_cut(p);
    std::int64_t below = 0;
    for (int i = 0; i < 200000; ++i) {
      const bool by_uniform = a.uniform() < p;
      ASSERT_EQ(by_uniform, b.engine()() < cut) << "p " << p << ", draw " << i;
      below += by_uniform;
    }
    EXPECT_NEAR(static_cast<double>(below) / 200000, p, 0.005) << p;
  }
  // p = 0.5: draw / 2^64 is rounded to a double (53 bits), so the draws within half a
  // step (2^10 / 2) below 2^63 already round up to 0.5: the cut is 2^63 - 512.
  Rng r;
  const std::uint64_t cut = r.uniform_cut(0.5);
  EXPECT_EQ(cut, (std::uint64_t{1} << 63) - 512);
  EXPECT_THROW(r.uniform_cut(1.0), ValueError);
}

TEST(Rng, StateRoundTrips) {
  Rng a(7);
  (void)a.normal();
  std::string saved = a.state();
  double x = a.normal(), y = a.uniform();
  Rng b(0);
  b.restore(saved);
  EXPECT_EQ(b.normal(), x);
  EXPECT_EQ(b.uniform(), y);
  EXPECT_THROW(b.restore("garbage"), ValueError);
}

TEST(Shape, Str) {
  EXPECT_EQ(shape_str({100, 784}), "(100,784)");
  EXPECT_EQ(shape_str({}), "()");
}

}  // namespace
}  // namespace nabla

namespace nabla {
namespace {

TEST(Tensor, ToStringNestsBrackets) {
  EXPECT_EQ(to_string(Tensor::from({2, 2}, {1, 0, 0, 3})), "[[1, 0], [0, 3]]");
  EXPECT_EQ(to_string(Tensor::from({3}, {0.3, -0.8, 0.5})), "[0.3, -0.8, 0.5]");
  EXPECT_EQ(to_string(Tensor::scalar(2.2)), "2.2");
  EXPECT_EQ(to_string(Tensor::from({1, 2, 1}, {1, 2})), "[[[1], [2]]]");
}

}  // namespace
}  // namespace nabla
