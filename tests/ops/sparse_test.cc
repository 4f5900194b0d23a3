// The sparse first-layer products must agree with the dense ones: every tile shape of
// the AVX-512 kernels, with and without worker threads.
#include "nabla/ops/sparse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "nabla/nn/layers.h"
#include "nabla/nn/network.h"
#include "nabla/ops/ops.h"
#include "nabla/detail/workers.h"
#include "test_util.h"

namespace nabla {
namespace {

// `rows` x `cols` pixels, about 80% zeros like MNIST.
std::vector<std::uint8_t> random_pixels(std::int64_t rows, std::int64_t cols, Rng& rng) {
  std::vector<std::uint8_t> p(static_cast<std::size_t>(rows * cols));
  for (auto& v : p) v = rng.uniform() < 0.2 ? static_cast<std::uint8_t>(1 + rng.below(255)) : 0;
  return p;
}

double max_rel_diff(const Tensor& a, const Tensor& b) {
  double m = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    m = std::max(m, std::abs(a.get(i) - b.get(i)) / std::max(1.0, std::abs(b.get(i))));
  }
  return m;
}

TEST(SparsePixels, KeepsNonZerosScaled) {
  std::vector<std::uint8_t> p = {0, 255, 0, 51, 0, 0, 0, 0, 102};
  SparsePixels px(p.data(), 3, 3, 1.0f / 255);
  EXPECT_EQ(px.rows(), 3);
  EXPECT_EQ(px.nonzeros(), 3);
  EXPECT_EQ(px.row_begin(1), 1);
  EXPECT_EQ(px.row_begin(2), 2);
  EXPECT_EQ(px.index()[1], 0);  // row 1's pixel 51 is in column 0
  SparseBatch batch{&px, {2, 0}};
  Tensor dense = batch.to_dense();
  EXPECT_EQ(dense.shape(), (Shape{2, 3}));
  EXPECT_NEAR(dense.at({0, 2}), 0.4, 1e-7);
  EXPECT_NEAR(dense.at({1, 1}), 1.0, 1e-7);
  EXPECT_EQ(dense.at({1, 0}), 0.0);
}

TEST(SparsePixels, EveryWidthAndDensityRoundTrips) {
  // widths around the 64-pixel steps of the vector build, densities from empty to full
  Rng rng(9);
  for (std::int64_t cols : {1, 63, 64, 65, 127, 130, 784}) {
    for (double density : {0.0, 0.2, 1.0}) {
      const std::int64_t rows = 7;
      std::vector<std::uint8_t> p(static_cast<std::size_t>(rows * cols));
      std::int64_t nonzeros = 0;
      for (auto& v : p) {
        v = rng.uniform() < density ? static_cast<std::uint8_t>(1 + rng.below(255)) : 0;
        nonzeros += v != 0;
      }
      SparsePixels px(p.data(), rows, cols, 1.0f);
      EXPECT_EQ(px.nonzeros(), nonzeros) << cols << " " << density;
      SparseBatch all{&px, {0, 1, 2, 3, 4, 5, 6}};
      Tensor dense = all.to_dense();
      for (std::int64_t i = 0; i < rows * cols; ++i) {
        ASSERT_EQ(dense.get(i), p[static_cast<std::size_t>(i)])
            << cols << " " << density << " " << i;
      }
    }
  }
}

TEST(SparsePixels, WorkersGiveTheSameArrays) {
  // enough rows to be split over the workers, some of them empty
  Rng rng(4);
  const std::int64_t rows = 9000, cols = 70;
  std::vector<std::uint8_t> p = random_pixels(rows, cols, rng);
  std::fill_n(p.begin() + 4500 * cols, 3 * cols, 0);
  SparsePixels one(p.data(), rows, cols, 1.0f / 255);
  SparsePixels split =
      testing_util::with_threads(2, [&] { return SparsePixels(p.data(), rows, cols, 1.0f / 255); });
  ASSERT_EQ(split.rows(), rows);
  ASSERT_EQ(split.nonzeros(), one.nonzeros());
  for (std::int64_t r = 0; r <= rows; ++r) ASSERT_EQ(split.row_begin(r), one.row_begin(r)) << r;
  for (std::int64_t e = 0; e < one.nonzeros(); ++e) {
    ASSERT_EQ(split.index()[e], one.index()[e]) << e;
    ASSERT_EQ(split.value()[e], one.value()[e]) << e;
  }
  EXPECT_EQ(split.row_begin(4501), split.row_begin(4500));  // an empty row
}

TEST(SparsePixels, AssignRowsCopiesThemInOrder) {
  std::vector<std::uint8_t> p = {0, 255, 0, 51, 0, 0, 0, 0, 102, 7, 8, 9};
  SparsePixels px(p.data(), 4, 3, 1.0f / 255);
  SparsePixels staged;
  staged.assign_rows(px, {3, 0, 3, 2});
  EXPECT_EQ(staged.rows(), 4);
  EXPECT_EQ(staged.cols(), 3);
  EXPECT_EQ(staged.nonzeros(), 8);
  std::vector<std::int64_t> identity = {0, 1, 2, 3};
  Tensor copied = SparseBatch{&staged, identity}.to_dense();
  Tensor original = SparseBatch{&px, {3, 0, 3, 2}}.to_dense();
  EXPECT_EQ(copied.shape(), original.shape());
  for (std::int64_t i = 0; i < copied.numel(); ++i) EXPECT_EQ(copied.get(i), original.get(i));
  // storage is reused for a smaller batch
  staged.assign_rows(px, {1});
  EXPECT_EQ(staged.rows(), 1);
  EXPECT_EQ(staged.nonzeros(), 1);
  EXPECT_EQ(staged.index()[0], 0);
  EXPECT_EQ(staged.value()[0], 51);
  EXPECT_THROW(staged.assign_rows(px, {0, 4}), ValueError);
}

TEST(SparseColumns, ListsEachColumnsRowsInBatchOrder) {
  // rows: {0: 0 255 0}, {1: 51 0 0}, {2: 0 0 102}, {3: 7 8 9}
  std::vector<std::uint8_t> p = {0, 255, 0, 51, 0, 0, 0, 0, 102, 7, 8, 9};
  SparsePixels px(p.data(), 4, 3, 1.0f / 255);
  SparseColumns cols;
  // batch rows 0..4 are pixel rows 3, 1, 0, 3, 2
  cols.assign(SparseBatch{&px, {3, 1, 0, 3, 2}});
  EXPECT_EQ(cols.cols(), 3);
  EXPECT_EQ(cols.nonzeros(), 9);
  auto column = [&](std::int64_t c) {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> rows_and_pixels;
    for (std::int64_t e = cols.begin(c); e < cols.begin(c + 1); ++e) {
      rows_and_pixels.emplace_back(cols.entries()[e] >> 8, cols.entries()[e] & 0xff);
    }
    return rows_and_pixels;
  };
  using P = std::pair<std::uint32_t, std::uint32_t>;
  EXPECT_THAT(column(0), ::testing::ElementsAre(P{0, 7}, P{1, 51}, P{3, 7}));
  EXPECT_THAT(column(1), ::testing::ElementsAre(P{0, 8}, P{2, 255}, P{3, 8}));
  EXPECT_THAT(column(2), ::testing::ElementsAre(P{0, 9}, P{3, 9}, P{4, 102}));
  // storage reused for a smaller batch; an empty column
  cols.assign(SparseBatch{&px, {1}});
  EXPECT_EQ(cols.nonzeros(), 1);
  EXPECT_THAT(column(0), ::testing::ElementsAre(P{0, 51}));
  EXPECT_TRUE(column(1).empty());
  EXPECT_TRUE(column(2).empty());
  EXPECT_THROW(cols.assign(SparseBatch{&px, {0, 4}}), ValueError);
  EXPECT_THROW(cols.assign(SparseBatch{nullptr, {0}}), ValueError);
}

TEST(SparseColumns, WeightGradientUsesTheBatchsOwnAndRefusesAnothers) {
  Rng rng(8);
  std::vector<std::uint8_t> p = random_pixels(20, 30, rng);
  SparsePixels px(p.data(), 20, 30, 1.0f / 255);
  SparseBatch batch = SparseBatch{&px, {3, 9, 3, 14, 0}};
  Tensor dY = Tensor::randn({5, 7}, rng, 1.0, DType::f32);
  Tensor expected = Tensor::zeros({30, 7});
  sparse_matmul_tn_reference(batch, dY, expected);
  // the batch's columns made beforehand give the same gradient
  SparseColumns made;
  made.assign(batch);
  batch.columns = &made;
  Tensor dW = Tensor::zeros({30, 7});
  SparseWorkspace workspace;
  sparse_matmul_tn(batch, dY, dW, workspace);
  EXPECT_LE(max_rel_diff(dW, expected), 1e-5);
  // columns of another batch (a row of another size in place of row 0, or fewer rows) are
  // refused
  auto size_of = [&](std::int64_t r) { return px.row_begin(r + 1) - px.row_begin(r); };
  std::int64_t r = 1;
  while (size_of(r) == size_of(0)) ++r;
  SparseColumns other;
  other.assign(SparseBatch{&px, {3, 9, 3, 14, r}});
  batch.columns = &other;
  EXPECT_THROW(sparse_matmul_tn(batch, dY, dW, workspace), ValueError);
  other.assign(SparseBatch{&px, {3, 9, 3, 14}});
  EXPECT_THROW(sparse_matmul_tn(batch, dY, dW, workspace), ValueError);
}

class PackedRowsWidth : public ::testing::TestWithParam<std::int64_t> {};

TEST_P(PackedRowsWidth, PackKeepsEveryValue) {
  const std::int64_t m = GetParam(), d = 5;
  Rng rng(static_cast<std::uint64_t>(m));
  Tensor W = Tensor::randn({d, m}, rng, 1.0, DType::f32);
  PackedRows packed;
  packed.pack(W);
  EXPECT_EQ(packed.main_cols() + packed.tail_cols(), m);
  EXPECT_EQ(packed.main_cols() % 16, 0);
  if (packed.tail_cols() > 0) {
    // a tail row never straddles a cache line: its width divides 16 floats
    EXPECT_EQ(16 % packed.tail_stride(), 0);
    EXPECT_GE(packed.tail_stride(), packed.tail_cols());
  }
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(packed.main()) % 64, 0u);
  for (std::int64_t r = 0; r < d; ++r) {
    for (std::int64_t j = 0; j < m; ++j) {
      float v = j < packed.main_cols()
                    ? packed.main()[r * packed.main_cols() + j]
                    : packed.tail()[r * packed.tail_stride() + j - packed.main_cols()];
      EXPECT_EQ(v, W.data<float>()[r * m + j]) << r << "," << j;
    }
  }
  EXPECT_THROW(packed.pack(Tensor({d, m}, DType::f64)), ValueError);
}

INSTANTIATE_TEST_SUITE_P(Widths, PackedRowsWidth, ::testing::Values(1, 2, 5, 9, 16, 50, 130));

class SparseProduct : public ::testing::TestWithParam<std::int64_t> {};

// A batch of n rows (repeats allowed) of a 20-row pixel set.
SparseBatch batch_of(const SparsePixels& px, std::int64_t n, Rng& rng) {
  SparseBatch batch{&px, {}};
  for (std::int64_t i = 0; i < n; ++i) batch.rows.push_back(rng.below(px.rows()));
  return batch;
}

TEST_P(SparseProduct, ForwardMatchesDense) {
  const std::int64_t m = GetParam(), d = 37;
  Rng rng(static_cast<std::uint64_t>(m));
  std::vector<std::uint8_t> p = random_pixels(20, d, rng);
  SparsePixels px(p.data(), 20, d, 1.0f / 255);
  // large enough to be split between workers
  SparseBatch batch = batch_of(px, 1100, rng);
  const std::int64_t n = batch.size();
  Tensor W = Tensor::randn({d, m}, rng, 1.0, DType::f32);
  Tensor expected = matmul(batch.to_dense(), W);
  for (int threads : {1, 2, 3}) {
    Workers workers(threads);
    ThreadScope scope(&workers);
    Tensor y({n, m}, DType::f32);
    sparse_matmul(batch, W, y);
    EXPECT_LE(max_rel_diff(y, expected), 1e-5) << "m " << m << " threads " << threads;
  }
  Tensor ref({n, m}, DType::f32);
  sparse_matmul_reference(batch, W, ref);
  EXPECT_LE(max_rel_diff(ref, expected), 1e-5);
}

TEST_P(SparseProduct, WeightGradientMatchesDenseAndAccumulates) {
  const std::int64_t m = GetParam(), d = 37;
  Rng rng(static_cast<std::uint64_t>(100 + m));
  std::vector<std::uint8_t> p = random_pixels(20, d, rng);
  SparsePixels px(p.data(), 20, d, 1.0f / 255);
  for (std::int64_t n : {9, 1100}) {  // one part, and split between workers
    SparseBatch batch = batch_of(px, n, rng);
    // float32 sums over n rows: the rounding grows with n
    const double tol = n > 100 ? 1e-4 : 1e-5;
    Tensor dY = Tensor::randn({n, m}, rng, 1.0, DType::f32);
    Tensor start = Tensor::randn({d, m}, rng, 1.0, DType::f32);
    Tensor product = matmul(batch.to_dense(), dY, true, false);  // X^T dY
    for (int threads : {1, 2}) {
      Workers workers(threads);
      ThreadScope scope(&workers);
      Tensor dW = start;
      SparseWorkspace workspace;
      sparse_matmul_tn(batch, dY, dW, workspace);
      EXPECT_LE(max_rel_diff(dW, add(start, product)), tol) << "m " << m;
      // the workspace carries nothing over: a second call adds the product once more
      sparse_matmul_tn(batch, dY, dW, workspace);
      EXPECT_LE(max_rel_diff(dW, add(start, scale(product, 2.0))), tol) << "m " << m;
    }
    Tensor ref = start;
    sparse_matmul_tn_reference(batch, dY, ref);
    EXPECT_LE(max_rel_diff(ref, add(start, product)), tol);
  }
}

// Widths covering every tile of the kernels: partial chunks, whole chunks, several tiles.
INSTANTIATE_TEST_SUITE_P(Widths, SparseProduct,
                         ::testing::Values(1, 10, 16, 17, 33, 48, 50, 64, 70, 130));

TEST(SparseProduct, Errors) {
  std::vector<std::uint8_t> p = {1, 0, 2, 0};
  SparsePixels px(p.data(), 2, 2, 1.0f);
  Tensor W({2, 3}, DType::f32), y({1, 3}, DType::f32);
  SparseBatch bad_row{&px, {5}};
  EXPECT_THROW(sparse_matmul(bad_row, W, y), ValueError);
  SparseBatch ok{&px, {1}};
  Tensor W3({3, 3}, DType::f32);
  EXPECT_THROW(sparse_matmul(ok, W3, y), ShapeError);
  Tensor W64({2, 3}, DType::f64);
  EXPECT_THROW(sparse_matmul(ok, W64, y), ValueError);
  Tensor wrong({2, 3}, DType::f32);
  EXPECT_THROW(sparse_matmul(ok, W, wrong), ShapeError);
}

TEST(SparseAffine, SameAsDenseForwardAndBackward) {
  Rng rng(5);
  std::vector<std::uint8_t> p = random_pixels(30, 64, rng);
  SparsePixels px(p.data(), 30, 64, 1.0f / 255);
  SparseBatch batch{&px, {4, 8, 15, 16, 23, 29}};
  SparseAffine sparse_layer(Tensor::randn({64, 50}, rng, 0.1, DType::f32),
                            Tensor::randn({50}, rng, 0.1, DType::f32));
  Affine dense_layer(sparse_layer.W().value(), sparse_layer.b().value());
  Workers workers(2);  // the products of both layers on two threads
  ThreadScope scope(&workers);
  Tensor ys = sparse_layer.forward(batch);
  Tensor yd = dense_layer.forward(batch.to_dense());
  EXPECT_LE(max_rel_diff(ys, yd), 1e-5);
  Tensor dout = Tensor::randn({6, 50}, rng, 1.0, DType::f32);
  EXPECT_FALSE(sparse_layer.backward(dout).defined());  // no dX: the input is data
  dense_layer.backward(dout);
  EXPECT_LE(max_rel_diff(sparse_layer.W().grad(), dense_layer.W().grad()), 1e-5);
  EXPECT_LE(max_rel_diff(sparse_layer.b().grad(), dense_layer.b().grad()), 1e-6);
  EXPECT_EQ(sparse_layer.W().grad().shape(), (Shape{64, 50}));
  // another batch, and then a dense input, through the same layer: the same products
  // as Affine
  SparseBatch run{&px, {10, 11, 12, 13, 14, 15}};
  EXPECT_LE(max_rel_diff(sparse_layer.forward(run), dense_layer.forward(run.to_dense())), 1e-5);
  sparse_layer.backward(dout);
  dense_layer.backward(dout);
  EXPECT_LE(max_rel_diff(sparse_layer.W().grad(), dense_layer.W().grad()), 1e-5);
  Tensor dense_x = run.to_dense();
  EXPECT_EQ(max_rel_diff(sparse_layer.forward(dense_x), dense_layer.forward(dense_x)), 0.0);
  EXPECT_EQ(max_rel_diff(sparse_layer.backward(dout), dense_layer.backward(dout)), 0.0);
  EXPECT_LE(max_rel_diff(sparse_layer.W().grad(), dense_layer.W().grad()), 1e-5);
}

TEST(SparseAffine, NeedsFloat32AndRowsWithPixels) {
  Rng rng(5);
  EXPECT_THROW(SparseAffine(Tensor::randn({4, 3}, rng, 0.1, DType::f64), Tensor({3}, DType::f64)),
               ValueError);
  SparseAffine layer(Tensor::randn({4, 3}, rng, 0.1, DType::f32), Tensor({3}, DType::f32));
  EXPECT_THROW(layer.forward(SparseBatch{nullptr, {0}}), ValueError);
}

TEST(SparseAffine, SparseRowsNeedASparseFirstLayer) {
  std::vector<std::uint8_t> p = {1, 0, 2, 0};
  SparsePixels px(p.data(), 2, 2, 1.0f);
  Rng rng(1);
  Sequential net = make_two_layer_net(2, 3, 2, 0.1, rng);
  try {
    net.predict(SparseBatch{&px, {0, 1}});
    FAIL() << "no exception";
  } catch (const ValueError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("SparseAffine first layer"));
  }
  Sequential late;
  late.emplace<Relu>();
  EXPECT_THROW(
      late.add(std::make_unique<SparseAffine>(Tensor({2, 3}, DType::f32), Tensor({3}, DType::f32))),
      ValueError);
}

TEST(SparseAffine, TwoLayerNetGradientSameAsDense) {
  Rng rng(6);
  std::vector<std::uint8_t> p = random_pixels(50, 784, rng);
  SparsePixels px(p.data(), 50, 784, 1.0f / 255);
  SparseBatch batch{&px, {}};
  std::vector<std::int64_t> t;
  for (int i = 0; i < 20; ++i) {
    batch.rows.push_back(rng.below(50));
    t.push_back(rng.below(10));
  }
  Rng init_a(1), init_b(1);
  Sequential a = make_two_layer_net(784, 50, 10, 0.1, init_a);
  Sequential b = make_two_layer_net(784, 50, 10, 0.1, init_b);
  // a with a first layer that takes sparse rows, holding the same W1 and b1
  Sequential sparse_a;
  sparse_a.add(
      std::make_unique<SparseAffine>(a.parameter("W1").value(), a.parameter("b1").value()));
  sparse_a.emplace<Relu>();
  sparse_a.emplace<Affine>(a.parameter("W2").value(), a.parameter("b2").value());
  sparse_a.set_loss(std::make_unique<SoftmaxWithLoss>());
  a = std::move(sparse_a);
  double loss_sparse = a.gradient(batch, t);
  double loss_dense = b.gradient(batch.to_dense(), t);
  EXPECT_NEAR(loss_sparse, loss_dense, 1e-5);
  std::vector<Var> pa = a.parameters(), pb = b.parameters();
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_LE(max_rel_diff(pa[i].grad(), pb[i].grad()), 1e-5) << pa[i].name();
  }
  EXPECT_LE(max_rel_diff(a.predict(batch), b.predict(batch.to_dense())), 1e-5);
}

TEST(Workers, EveryPartRunsOnce) {
  for (int threads : {1, 2, 4}) {
    Workers workers(threads);
    for (int round = 0; round < 50; ++round) {
      std::atomic<int> sum{0}, calls{0};
      workers.run([&](int part, int parts) {
        EXPECT_EQ(parts, threads);
        sum += part;
        ++calls;
      });
      EXPECT_EQ(calls.load(), threads);
      EXPECT_EQ(sum.load(), threads * (threads - 1) / 2);
    }
  }
}

TEST(Workers, ExceptionsReachTheCaller) {
  Workers workers(2);
  EXPECT_THROW(workers.run([](int part, int) {
    if (part == 1) throw ValueError("part 1 failed");
  }),
               ValueError);
  // still usable afterwards
  std::atomic<int> calls{0};
  workers.run([&](int, int) { ++calls; });
  EXPECT_EQ(calls.load(), 2);
}

TEST(PartRange, CoversTheRange) {
  EXPECT_EQ(part_range(10, 0, 3), (std::pair<std::int64_t, std::int64_t>{0, 3}));
  EXPECT_EQ(part_range(10, 2, 3), (std::pair<std::int64_t, std::int64_t>{6, 10}));
}

}  // namespace
}  // namespace nabla
