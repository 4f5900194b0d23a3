// Embedding: lookups by int64 id, the sparse row gradient against the dense one, a float64
// gradient check, errors; and the optimizers' lazy row updates against the dense ones.
#include "nabla/nn/embedding.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nabla/autograd/gradcheck.h"
#include "nabla/ops/ops.h"
#include "nabla/train/optim.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;

Tensor ids_of(Shape shape, const std::vector<std::int64_t>& values) {
  Tensor t = Tensor::empty(std::move(shape), DType::i64);
  std::copy(values.begin(), values.end(), t.data<std::int64_t>());
  return t;
}

TEST(Embedding, LooksUpRowsSideBySide) {
  Embedding emb(Tensor::from({4, 2}, {0, 1, 10, 11, 20, 21, 30, 31}, DType::f32));
  Tensor y = emb.forward(ids_of({2, 3}, {2, 0, 2, 3, 3, 1}));
  ASSERT_EQ(y.shape(), (Shape{2, 6}));
  EXPECT_EQ(to_string(y), "[[20, 21, 0, 1, 20, 21], [30, 31, 30, 31, 10, 11]]");
  EXPECT_EQ(to_string(emb.forward(ids_of({2}, {1, 3}))), "[[10, 11], [30, 31]]");
}

TEST(Embedding, SparseGradientHoldsOnlyTheRowsUsedSummed) {
  Embedding emb(Tensor::from({5, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, DType::f64));
  emb.forward(ids_of({2, 2}, {3, 1, 3, 3}));
  emb.backward(Tensor::from({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}, DType::f64));
  const RowGradient& g = emb.row_grad();
  EXPECT_EQ(g.rows, (std::vector<std::int64_t>{3, 1}));
  // row 3 was used three times: (1,2) + (5,6) + (7,8)
  EXPECT_EQ(to_string(g.values), "[[13, 16], [3, 4]]");
  EXPECT_FALSE(emb.W().has_grad());  // the dense grad is not touched
  EXPECT_EQ(to_string(g.to_dense(5)), "[[0, 0], [3, 4], [0, 0], [13, 16], [0, 0]]");

  // a second batch before the step adds to the same rows, and new rows join
  emb.forward(ids_of({1, 2}, {0, 1}));
  emb.backward(Tensor::from({1, 4}, {1, 1, 10, 10}, DType::f64));
  EXPECT_EQ(emb.row_grad().rows, (std::vector<std::int64_t>{3, 1, 0}));
  EXPECT_EQ(to_string(emb.row_grad().values), "[[13, 16], [13, 14], [1, 1]]");
  emb.clear_row_grad();
  EXPECT_TRUE(emb.row_grad().empty());
  emb.forward(ids_of({1}, {4}));
  emb.backward(Tensor::from({1, 2}, {2, 2}, DType::f64));
  EXPECT_EQ(emb.row_grad().rows, (std::vector<std::int64_t>{4}));
  EXPECT_EQ(to_string(emb.row_grad().values), "[[2, 2]]");
}

TEST(Embedding, DenseModeGivesTheSameGradient) {
  Rng rng(5);
  Tensor table = Tensor::randn({7, 3}, rng, 1.0, DType::f64);
  Tensor ids = ids_of({4, 3}, {0, 1, 2, 2, 2, 6, 5, 0, 1, 3, 3, 3});
  Tensor dout = Tensor::randn({4, 9}, rng, 1.0, DType::f64);
  Embedding sparse(table), dense(table, EmbeddingGrad::dense);
  EXPECT_EQ(to_string(sparse.forward(ids)), to_string(dense.forward(ids)));
  EXPECT_FALSE(sparse.backward(dout).defined());  // ids have no gradient
  dense.backward(dout);
  EXPECT_EQ(to_string(sparse.row_grad().to_dense(7)), to_string(dense.W().grad()));
}

TEST(Embedding, GradientCheckInFloat64) {
  Rng rng(11);
  Embedding emb(Tensor::randn({6, 4}, rng, 1.0, DType::f64), EmbeddingGrad::dense);
  Var ids = Var::constant(ids_of({3, 2}, {0, 5, 5, 2, 1, 5}));
  Tensor w = Tensor::randn({3, 8}, rng, 1.0, DType::f64);
  auto f = [&] { return sum(mul(tanh(emb(ids)), Var::constant(w))); };
  GradCheckReport r = gradient_check(f, {emb.W()});
  EXPECT_LT(r.max_rel_error(), 1e-7);
}

TEST(Embedding, ErrorsNameTheProblem) {
  Embedding emb(Tensor({4, 2}, DType::f32));
  try {
    emb.forward(ids_of({1, 2}, {1, 4}));
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "Embedding: id 4 at position 1 is outside the table's rows [0, 4)");
  }
  EXPECT_THROW(emb.forward(ids_of({1}, {-1})), ValueError);
  try {
    emb.forward(Tensor({2, 2}, DType::f32));
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "Embedding: ids must be int64, got float32");
  }
  EXPECT_THROW(emb.forward(Tensor({1, 1, 1}, DType::i64)), ShapeError);
  EXPECT_THROW(Embedding(Tensor({4}, DType::f32)), ShapeError);
  EXPECT_THROW(Embedding(Tensor({4, 2}, DType::i64)), ValueError);
  Embedding fresh(Tensor({4, 2}, DType::f32));
  EXPECT_THROW(fresh.backward(Tensor({1, 2}, DType::f32)), ValueError);  // no forward yet
  fresh.forward(ids_of({1}, {0}));
  EXPECT_THROW(fresh.backward(Tensor({1, 3}, DType::f32)), ShapeError);
  fresh.eval();
  fresh.forward(ids_of({1}, {0}));
  EXPECT_THROW(fresh.backward(Tensor({1, 2}, DType::f32)), ValueError);  // eval keeps nothing
}

// ---- lazy optimizer updates -------------------------------------------------------------

// One table stepped twice from row gradients, and a copy stepped from the same gradients
// made dense.
struct LazyVsDense {
  Var lazy, dense;
  std::unique_ptr<Optimizer> lazy_opt, dense_opt;

  LazyVsDense(const std::string& name, Tensor table)
      : lazy(Var::parameter(table, "W")),
        dense(Var::parameter(table, "W")),
        lazy_opt(make_optimizer(name, 0.1)),
        dense_opt(make_optimizer(name, 0.1)) {}

  void step(const RowGradient& g) {
    std::vector<Var> a{lazy}, b{dense};
    lazy_opt->step(a, {&g});
    dense.zero_grad();
    dense.grad() = g.to_dense(dense.shape()[0]);
    dense_opt->step(b);
  }
};

RowGradient rows_grad(std::vector<std::int64_t> rows, Tensor values) {
  RowGradient g;
  g.rows = std::move(rows);
  g.values = std::move(values);
  return g;
}

TEST(LazyOptimizer, SgdEqualsTheDenseUpdateExactly) {
  Rng rng(2);
  LazyVsDense t("sgd", Tensor::randn({6, 3}, rng, 1.0, DType::f32));
  t.step(rows_grad({4, 0}, Tensor::randn({2, 3}, rng, 1.0, DType::f32)));
  t.step(rows_grad({1, 4, 5}, Tensor::randn({3, 3}, rng, 1.0, DType::f32)));
  EXPECT_EQ(t.lazy.value().to_vector(), t.dense.value().to_vector());
}

TEST(LazyOptimizer, AdamEqualsDenseWhenEveryRowIsTouched) {
  Rng rng(3);
  LazyVsDense t("adam", Tensor::randn({4, 3}, rng, 1.0, DType::f64));
  for (int step = 0; step < 3; ++step) {
    t.step(rows_grad({2, 0, 3, 1}, Tensor::randn({4, 3}, rng, 1.0, DType::f64)));
  }
  EXPECT_EQ(t.lazy.value().to_vector(), t.dense.value().to_vector());
  auto a = t.lazy_opt->state({"W"}), b = t.dense_opt->state({"W"});
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].second.to_vector(), b[i].second.to_vector()) << a[i].first;
  }
}

TEST(LazyOptimizer, AdamLeavesUntouchedRowsAndTheirMomentsAlone) {
  Rng rng(4);
  Tensor table = Tensor::randn({3, 2}, rng, 1.0, DType::f64);
  LazyVsDense t("adam", table);
  t.step(rows_grad({0, 1}, Tensor::from({2, 2}, {1, -1, 2, 0.5})));
  t.step(rows_grad({0}, Tensor::from({1, 2}, {0.5, 0.5})));
  const std::vector<double> before = table.to_vector(), lazy = t.lazy.value().to_vector(),
                            dense = t.dense.value().to_vector();
  // row 2 never had a gradient: unchanged in both
  EXPECT_EQ(lazy[4], before[4]);
  EXPECT_EQ(dense[4], before[4]);
  // row 1 was touched in step 1 only: the lazy update leaves it where step 1 put it,
  // the dense update moves it again on its momentum
  EXPECT_NE(lazy[2], dense[2]);
  // the lazy row 0 matches the dense row 0 (touched both times)
  EXPECT_DOUBLE_EQ(lazy[0], dense[0]);
  // row 1's moments: lazy keeps step 1's m = 0.1 * g, dense decays it to 0.9 * 0.1 * g
  auto state = t.lazy_opt->state({"W"});
  const Tensor& m = state[1].second;  // "m.W"
  ASSERT_EQ(state[1].first, "m.W");
  EXPECT_NEAR(m.get(2), 0.1 * 2.0, 1e-15);
  EXPECT_NEAR(t.dense_opt->state({"W"})[1].second.get(2), 0.9 * 0.1 * 2.0, 1e-15);
  // row 1 after step 1 only: Adam's first step moves by lr * sign(g) (up to eps)
  EXPECT_NEAR(lazy[2], before[2] - 0.1, 1e-6);
}

TEST(LazyOptimizer, BadRowGradientsAreNamed) {
  Var w = Var::parameter(Tensor({4, 2}, DType::f32), "W");
  std::vector<Var> params{w};
  SGD sgd(0.1);
  RowGradient out_of_range = rows_grad({4}, Tensor({1, 2}, DType::f32));
  try {
    sgd.step(params, {&out_of_range});
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "sgd: row gradient of parameter 0: row 4 is outside [0, 4)");
  }
  RowGradient wrong_shape = rows_grad({1}, Tensor({1, 3}, DType::f32));
  try {
    sgd.step(params, {&wrong_shape});
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("values float32(1,3), expected float32(1,2)"));
  }
  EXPECT_THROW(sgd.step(params, {nullptr, nullptr}), ValueError);
}

}  // namespace
}  // namespace nabla
