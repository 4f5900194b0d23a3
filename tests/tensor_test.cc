#include "nabla/tensor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
