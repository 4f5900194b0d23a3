// CharConvolution: each filter's best window of characters, its gradient against central
// differences in float64, words seen twice, and bad input.
#include "nabla/nn/char_convolution.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "nabla/autograd/gradcheck.h"
#include "test_util.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;

// chars (3, 1): 0, 1, -1; two filters over 2 characters: the sum + 0.5, the difference.
CharConvolution small() {
  return CharConvolution(Tensor::from({3, 1}, {0, 1, -1}, DType::f64),
                         Tensor::from({2, 2},
                                      {1, 1,  //
                                       1, -1},
                                      DType::f64),
                         Tensor::from({2}, {0.5, 0}, DType::f64));
}

TEST(CharConvolution, EachFilterKeepsItsBestWindow) {
  CharConvolution c = small();
  EXPECT_EQ(c.width(), 2);
  EXPECT_EQ(c.filters(), 2);
  // word A: vectors 1 -1 1 0, windows (1,-1) (-1,1) (1,0): sums 0 0 1, differences 2 -2 1
  // word B: vectors -1 -1 0 0, windows (-1,-1) (-1,0) (0,0): sums -2 -1 0, differences 0 -1 0
  Tensor ids = Tensor::from({2, 4},
                            {1, 2, 1, 0,  //
                             2, 2, 0, 0},
                            DType::i64);
  Tensor y = c.forward(ids);
  ASSERT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(y.to_vector(), (std::vector<double>{1.5, 2, 0.5, 0}));
}

TEST(CharConvolution, GradientGoesToTheWinningWindowOnly) {
  CharConvolution c = small();
  c.chars().set_grad_mode(EmbeddingGrad::dense);
  c.forward(Tensor::from({1, 4}, {1, 2, 1, 0}, DType::i64));
  // filter 0 won at position 2 (characters 1, 0), filter 1 at position 0 (characters 1, 2)
  c.backward(Tensor::from({1, 2}, {10, 100}, DType::f64));
  // dW[:, 0] = 10 * (1, 0); dW[:, 1] = 100 * (1, -1)
  EXPECT_EQ(c.W().grad().to_vector(), (std::vector<double>{10, 100, 0, -100}));
  EXPECT_EQ(c.b().grad().to_vector(), (std::vector<double>{10, 100}));
  // position 2 gets 10 * W[0, 0] = 10 (char 1), position 3 10 * W[1, 0] = 10 (char 0);
  // position 0 gets 100 * W[0, 1] = 100 (char 1), position 1 100 * W[1, 1] = -100 (char 2)
  EXPECT_EQ(c.chars().W().grad().to_vector(), (std::vector<double>{10, 110, -100}));
}

// Loss sum(y * R): its gradients by backprop and by central differences.
GradCheckReport check(CharConvolution& c, const Tensor& ids, const Tensor& r) {
  c.chars().set_grad_mode(EmbeddingGrad::dense);
  Tensor y = c.forward(ids);
  c.backward(r);
  auto loss = [&] {
    const Tensor out = c.forward(ids);
    double s = 0;
    for (std::int64_t i = 0; i < out.numel(); ++i) s += out.get(i) * r.get(i);
    return s;
  };
  std::vector<Tensor> numerical = {numerical_gradient(loss, c.W().value(), 1e-6),
                                   numerical_gradient(loss, c.b().value(), 1e-6),
                                   numerical_gradient(loss, c.chars().W().value(), 1e-6)};
  return compare_gradients({"W", "b", "chars.W"}, numerical,
                           {c.W().grad(), c.b().grad(), c.chars().W().grad()});
}

TEST(CharConvolution, GradientMatchesCentralDifferencesInFloat64) {
  // 5 characters of 4 values, 3 filters over 3 characters, words of 6 ids; words 0 and 2
  // are the same (scored once, their gradients summed), word 3 is all padding.
  CharConvolution c(testing_util::random({5, 4}, 1), testing_util::random({12, 3}, 2),
                    testing_util::random({3}, 3));
  Tensor ids = Tensor::from({4, 6}, {0, 1, 2, 3, 0, 0,  //
                                     0, 4, 4, 1, 2, 0,  //
                                     0, 1, 2, 3, 0, 0,  //
                                     0, 0, 0, 0, 0, 0},
                            DType::i64);
  const GradCheckReport r = check(c, ids, testing_util::random({4, 3}, 4));
  ASSERT_EQ(r.params.size(), 3u);
  EXPECT_LT(r.max_rel_error(), 1e-7);
  // (character 4, used by word 1 only, has a gradient)
  double used = 0;
  for (std::int64_t j = 0; j < 4; ++j) used += std::abs(c.chars().W().grad().get(4 * 4 + j));
  EXPECT_GT(used, 0.0);
}

TEST(CharConvolution, AWordSeenTwiceIsTheSameAsTwoCopies) {
  CharConvolution c(testing_util::random({4, 2}, 5), testing_util::random({6, 2}, 6),
                    testing_util::random({2}, 7));
  CharConvolution d = *clone_of(c);
  c.chars().set_grad_mode(EmbeddingGrad::dense);
  d.chars().set_grad_mode(EmbeddingGrad::dense);
  // c sees the word twice in one batch; d sees it in two batches, once each
  Tensor twice = Tensor::from({2, 5}, {0, 1, 2, 3, 0, 0, 1, 2, 3, 0}, DType::i64);
  Tensor once = Tensor::from({1, 5}, {0, 1, 2, 3, 0}, DType::i64);
  Tensor y = c.forward(twice);
  EXPECT_EQ(y.to_vector()[0], y.to_vector()[2]);
  EXPECT_EQ(y.to_vector()[1], y.to_vector()[3]);
  c.backward(Tensor::from({2, 2}, {1, 2, 3, 4}, DType::f64));
  d.forward(once);
  d.backward(Tensor::from({1, 2}, {1, 2}, DType::f64));
  d.forward(once);
  d.backward(Tensor::from({1, 2}, {3, 4}, DType::f64));
  for (std::int64_t i = 0; i < 12; ++i) {
    EXPECT_NEAR(c.W().grad().get(i), d.W().grad().get(i), 1e-12) << i;
  }
  for (std::int64_t i = 0; i < 8; ++i) {
    EXPECT_NEAR(c.chars().W().grad().get(i), d.chars().W().grad().get(i), 1e-12) << i;
  }
}

TEST(CharConvolution, BadInputIsNamed) {
  EXPECT_THAT(testing_util::error_of<ShapeError>([] {
                CharConvolution(Tensor({3, 2}), Tensor({5, 4}), Tensor({4}));
              }),
              HasSubstr("CharConvolution: expected chars (C, e), W (width * e, F) and b (F)"));
  CharConvolution c = small();
  EXPECT_THAT(testing_util::error_of<ShapeError>([&] {
                c.forward(Tensor::from({1, 1}, {1}, DType::i64));
              }),
              HasSubstr("ids int64(1,1), expected int64 (M, L) with L >= the width 2"));
  EXPECT_THAT(testing_util::error_of<ValueError>([&] {
                c.forward(Tensor::from({1, 3}, {1, 7, 0}, DType::i64));
              }),
              HasSubstr("id 7 at position 1 is outside the table's rows [0, 3)"));
  EXPECT_THAT(testing_util::error_of<ValueError>([&] {
                small().backward(Tensor({1, 2}));
              }),
              HasSubstr("backward needs a forward in training mode first"));
}

}  // namespace
}  // namespace nabla
