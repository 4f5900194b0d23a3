// WindowEmbedding: the layout of its output, its row gradients, and bad input.
#include "nabla/nn/window_embedding.h"

#include <memory>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nabla/autograd/gradcheck.h"
#include "test_util.h"

namespace nabla {
namespace {

using ::testing::HasSubstr;

// words (4, 2): row r is (10r, 10r + 1); shapes (3, 1): row r is (-r)
WindowEmbedding small() {
  Tensor words({4, 2}, DType::f64), shapes({3, 1}, DType::f64);
  for (std::int64_t r = 0; r < 4; ++r) {
    words.set(2 * r, 10.0 * static_cast<double>(r));
    words.set(2 * r + 1, 10.0 * static_cast<double>(r) + 1);
  }
  for (std::int64_t r = 0; r < 3; ++r) shapes.set(r, -static_cast<double>(r));
  return WindowEmbedding(words, shapes, 2);
}

TEST(WindowEmbedding, WordVectorsThenShapeVectors) {
  WindowEmbedding e = small();
  Tensor ids = Tensor::from({2, 4}, {1, 3, 2, 1,  //
                                    0, 0, 0, 2}, DType::i64);
  Tensor y = e.forward(ids);
  ASSERT_EQ(y.shape(), (Shape{2, 6}));
  EXPECT_EQ(y.to_vector(), (std::vector<double>{10, 11, 30, 31, -2, -1,  //
                                                0, 1, 0, 1, 0, -2}));
}

TEST(WindowEmbedding, BackwardGivesEachTableItsRows) {
  WindowEmbedding e = small();
  Tensor ids = Tensor::from({2, 4}, {1, 3, 2, 1, 1, 1, 0, 2}, DType::i64);
  e.forward(ids);
  Tensor dout = Tensor::from({2, 6}, {1, 2, 3, 4, 5, 6,  //
                                     7, 8, 9, 10, 11, 12}, DType::f64);
  EXPECT_FALSE(e.backward(dout).defined());  // ids have no gradient
  const std::vector<const RowGradient*> rows = e.row_gradients();
  ASSERT_EQ(rows.size(), 2u);
  // words: row 1 used twice (1, 2) + (7, 8) + (9, 10); row 3 once (3, 4)
  EXPECT_EQ(rows[0]->to_dense(4).to_vector(),
            (std::vector<double>{0, 0, 17, 20, 0, 0, 3, 4}));
  // shapes: row 2 (5) and row 0 (11); row 1 (6) and row 2 (12)
  EXPECT_EQ(rows[1]->to_dense(3).to_vector(), (std::vector<double>{11, 6, 17}));
  e.clear_row_gradients();
  EXPECT_TRUE(rows[0]->empty());
}

TEST(WindowEmbedding, DenseModeForGradientChecks) {
  WindowEmbedding e = small();
  e.set_grad_mode(EmbeddingGrad::dense);
  EXPECT_EQ(e.row_gradients(), (std::vector<const RowGradient*>{nullptr, nullptr}));
  Tensor ids = Tensor::from({1, 4}, {1, 3, 2, 1}, DType::i64);
  e.forward(ids);
  e.backward(Tensor::from({1, 6}, {1, 2, 3, 4, 5, 6}, DType::f64));
  EXPECT_EQ(e.words().W().grad().to_vector(), (std::vector<double>{0, 0, 1, 2, 0, 0, 3, 4}));
  EXPECT_EQ(e.shapes().W().grad().to_vector(), (std::vector<double>{0, 6, 5}));
}

TEST(WindowEmbedding, BadIdsAreNamed) {
  WindowEmbedding e = small();
  EXPECT_THAT(testing_util::error_of<ShapeError>(
                  [&] { e.forward(Tensor::from({1, 3}, {1, 2, 3}, DType::i64)); }),
              HasSubstr("WindowEmbedding: ids int64(1,3), expected int64 (N, 4)"));
  EXPECT_THAT(testing_util::error_of<ShapeError>(
                  [&] { e.forward(Tensor::from({1, 4}, {1, 2, 0, 0}, DType::f32)); }),
              HasSubstr("ids float32(1,4), expected int64"));
  EXPECT_THAT(testing_util::error_of<ValueError>(
                  [&] { e.forward(Tensor::from({1, 4}, {1, 2, 0, 7}, DType::i64)); }),
              HasSubstr("id 7 at position 1 is outside the table's rows [0, 3)"));
  EXPECT_THAT(testing_util::error_of<ValueError>([&] { e.backward(Tensor({1, 6})); }),
              HasSubstr("backward needs a forward in training mode first"));
}

TEST(WindowEmbedding, AffixVectorsComeLast) {
  // words and shapes as small(); affixes (3, 1): row r is (100 r)
  Tensor words = Tensor::from({4, 2}, {0, 1, 10, 11, 20, 21, 30, 31}, DType::f64);
  Tensor shapes = Tensor::from({3, 1}, {0, -1, -2}, DType::f64);
  Tensor affixes = Tensor::from({3, 1}, {0, 100, 200}, DType::f64);
  WindowEmbedding e(words, shapes, 2, affixes);
  ASSERT_TRUE(e.has_affixes());
  EXPECT_EQ(e.ids_per_example(), 8);
  // word ids 1 3, shape ids 2 1, prefix ids 1 2, suffix ids 2 0
  Tensor ids = Tensor::from({1, 8}, {1, 3, 2, 1, 1, 2, 2, 0}, DType::i64);
  Tensor y = e.forward(ids);
  EXPECT_EQ(y.to_vector(), (std::vector<double>{10, 11, 30, 31, -2, -1, 100, 200, 200, 0}));
  e.backward(Tensor::from({1, 10}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, DType::f64));
  EXPECT_EQ(e.row_gradients().size(), 3u);
  EXPECT_EQ(e.row_gradients()[2]->to_dense(3).to_vector(), (std::vector<double>{10, 7, 17}));
  EXPECT_EQ(e.row_gradients()[0]->to_dense(4).to_vector(),
            (std::vector<double>{0, 0, 1, 2, 0, 0, 3, 4}));
  EXPECT_THAT(testing_util::error_of<ShapeError>(
                  [&] { e.forward(Tensor::from({1, 4}, {1, 2, 0, 0}, DType::i64)); }),
              HasSubstr("expected int64 (N, 8): 2 word ids, then as many shape ids, prefix ids "
                        "and suffix ids"));
}

TEST(WindowEmbedding, CharacterMaximaComeLast) {
  // words and shapes as small(); characters (3, 1): 0, 1, -1, one filter over 2 characters
  // that sums them
  Tensor words = Tensor::from({4, 2}, {0, 1, 10, 11, 20, 21, 30, 31}, DType::f64);
  Tensor shapes = Tensor::from({3, 1}, {0, -1, -2}, DType::f64);
  auto conv = std::make_unique<CharConvolution>(Tensor::from({3, 1}, {0, 1, -1}, DType::f64),
                                                Tensor::from({2, 1}, {1, 1}, DType::f64),
                                                Tensor::from({1}, {0}, DType::f64));
  WindowEmbedding e(words, shapes, 2, Tensor(), std::move(conv), 3);
  ASSERT_TRUE(e.has_characters());
  EXPECT_FALSE(e.has_affixes());
  EXPECT_EQ(e.ids_per_example(), 10);
  // word ids 1 3, shape ids 2 1, token 1's characters 0 1 1 (best sum 2), token 2's 2 2 0
  // (best sum -1)
  Tensor ids = Tensor::from({1, 10}, {1, 3, 2, 1, 0, 1, 1, 2, 2, 0}, DType::i64);
  Tensor y = e.forward(ids);
  EXPECT_EQ(y.to_vector(), (std::vector<double>{10, 11, 30, 31, -2, -1, 2, -1}));
  e.set_grad_mode(EmbeddingGrad::dense);
  e.forward(ids);
  e.backward(Tensor::from({1, 8}, {1, 2, 3, 4, 5, 6, 7, 8}, DType::f64));
  // the first token's best window (characters 1, 1) gets 7 twice; the second's (2, 0), 8
  EXPECT_EQ(e.characters().chars().W().grad().to_vector(), (std::vector<double>{8, 14, 8}));
  EXPECT_EQ(e.words().W().grad().to_vector(), (std::vector<double>{0, 0, 1, 2, 0, 0, 3, 4}));
  EXPECT_THAT(testing_util::error_of<ShapeError>(
                  [&] { e.forward(Tensor::from({1, 4}, {1, 2, 0, 0}, DType::i64)); }),
              HasSubstr("expected int64 (N, 10): 2 word ids, then as many shape ids, then 3 "
                        "character ids per token"));
}

}  // namespace
}  // namespace nabla
